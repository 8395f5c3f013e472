// End to end: skopeo pushes an image to the loopback registry, berth pulls it through the
// images service (content store, snapshots, names), mounts a root over it and runs a
// command from the image with the built-in runtime. Nothing may be left mounted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { defaultSpec, type Bundle } from '../runtime/bundle.js';
import { makeTestRuntime } from '../runtime/harness.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { startRegistry } from './support/registry-server.js';
import { buildImage, writeOciLayout } from './support/image-fixtures.js';

const skip = requires('root', 'overlay', 'registry') || (existsSync('/usr/bin/skopeo') ? false : 'requires skopeo (Debian package)');

test('an image skopeo pushed is pulled by berth and run by the built-in runtime', { skip, timeout: 120_000 }, async () => {
  const token = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const work = await mkdtemp(path.join(os.tmpdir(), `berth-skopeo-run-${token}-`));
  const registry = await startRegistry();
  const client = new RegistryClient();
  const runtime = await makeTestRuntime(token);
  const key = `berth-skopeo-run-${token}`;
  const containerId = `berthctr${token}`; // not a substring of the snapshot's paths, so the leak check sees only the container's
  const service = new ImageService({ root: path.join(work, 'image') });
  try {
    const source = new FileContentStore(path.join(work, 'source'));
    const rootfs = await makeBusyboxRootfs(path.join(work, 'rootfs'), { probe: false });
    const image = await buildImage(source, [{ dir: rootfs }, { files: { 'etc/berth-test': `ran ${token}\n` } }]);
    await writeOciLayout(source, path.join(work, 'layout'), image, 'v1');
    const name = `${registry.host}/berth/skopeo-run-${token}:v1`;
    execFileSync('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${path.join(work, 'layout')}:v1`, `docker://${name}`]);

    const pulled = await pullImage(client, service.pullStore(), name);
    assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
    const root = await service.rootfs().mount(key, name);

    const spec = defaultSpec(['/bin/cat', '/etc/berth-test']);
    spec.root = { path: root, readonly: true };
    const bundleDir = path.join(work, 'bundle');
    const bundle: Bundle = {
      dir: bundleDir, spec,
      write: async () => { await writeFile(path.join(bundleDir, 'config.json'), JSON.stringify(spec)); },
      remove: async () => { await rm(bundleDir, { recursive: true, force: true }); },
    };
    execFileSync('mkdir', ['-p', bundleDir]);
    await bundle.write();
    const out = await runtime.run(containerId, bundle);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, `ran ${token}\n`);
    runtime.assertNoLeaks(containerId);
  } finally {
    await service.rootfs().remove(key).catch(() => undefined);
    const left = await mountPointsUnder(work);
    for (const m of left) execFileSync('umount', ['-l', m]);
    client.close();
    await registry.stop();
    await runtime.cleanup();
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no mounts left under the test dir');
  }
});
