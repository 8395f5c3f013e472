// Compile-time check that the images service's adapters fit the interfaces other domains
// declared (pull/push stores, the containers service's ports); a runtime test that they
// are wired to the same stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImageService } from '../../src/daemon/images/image-service.js';
import type { PullStore } from '../../src/daemon/images/pull.js';
import type { PushStore } from '../../src/daemon/images/push.js';
import type { ContainerRootfs, ImageCommitter, ImageLookup } from '../../src/daemon/containers/ports.js';

test('adapters satisfy the pull, push and containers interfaces', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-wiring-'));
  try {
    const service = new ImageService({ root, driver: 'native' });
    const pull: PullStore = service.pullStore();
    const push: PushStore = service.pushStore();
    const lookup: ImageLookup = service.lookup();
    const rootfs: ContainerRootfs = service.rootfs();
    const committer: ImageCommitter = service;
    assert.equal(pull.content, service.content);
    assert.equal(push.content, service.content);
    await assert.rejects(lookup.resolve('berth-wiring/none'), /No such image: berth-wiring\/none:latest/);
    assert.deepEqual(await rootfs.list(), []);
    assert.equal(typeof committer.commit, 'function');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
