// The images service's push store names an image's other names, so pushing a tag of an
// image already in another repository of the same registry mounts its layers there
// instead of uploading them again (docker's "Mounted from ...").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { createBusyboxImage } from '../../src/daemon/images/import-export.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { parseNormalizedReference } from '../../src/oci/reference.js';
import { RegistryClient } from '../../src/registry/client.js';
import type { ProgressEvent } from '../../src/registry/progress.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { processGone, startRegistry } from '../registry/support/registry-server.js';

const skip = requires('root', 'overlay', 'registry');
const token = Math.random().toString(36).slice(2, 8);

test('push of a second tag mounts the layers from the repository pushed first', { skip, timeout: 60_000 }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), `berth-push-mount-${token}-`));
  const registry = await startRegistry();
  const client = new RegistryClient();
  const service = new ImageService({ root: path.join(base, 'image') });
  try {
    const first = `${registry.host}/berth/${token}/first:v1`;
    const second = `${registry.host}/berth/${token}/second:v1`;
    const id = await createBusyboxImage(service, { reference: first });
    await service.tag(first, second);
    const store = service.pushStore();
    const target = await store.resolve(parseNormalizedReference(second));
    const names = (await store.namesOf?.(target))?.map((n) => `${n.domain}/${n.path}`).sort();
    assert.deepEqual(names, [`${registry.host}/berth/${token}/first`, `${registry.host}/berth/${token}/second`]);

    await pushImage(client, store, first);
    const events: ProgressEvent[] = [];
    await pushImage(client, store, second, { onProgress: (e) => events.push(e) });
    const statuses = events.map((e) => e.status);
    assert.ok(statuses.includes(`Mounted from berth/${token}/first`), `layer mounted, got: ${statuses.join(', ')}`);
    assert.ok(!statuses.includes('Pushed'), 'nothing uploaded again');
    assert.equal((await service.resolve(second)).record.id, id);
  } finally {
    client.close();
    const pid = registry.pid;
    await registry.stop();
    assert.deepEqual(await mountPointsUnder(base), [], 'no mounts left');
    await rm(base, { recursive: true, force: true });
    assert.ok(processGone(pid), 'registry stopped');
  }
});
