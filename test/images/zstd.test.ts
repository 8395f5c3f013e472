// zstd-compressed layers end to end: an image whose layers zstd compressed (OCI and Docker
// media types) is pushed to a docker-registry on loopback, pulled by the images service
// into an empty store, unpacked by the overlay snapshotter and mounted as a container root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { MediaType } from '../../src/oci/image.js';
import { formatReference, parseNormalizedReference } from '../../src/oci/reference.js';
import { RegistryClient } from '../../src/registry/client.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { processGone, startRegistry } from '../registry/support/registry-server.js';
import { buildImage, NameTable } from '../registry/support/image-fixtures.js';

const skip = requires('root', 'overlay', 'registry') || (existsSync('/usr/bin/zstd') ? false : 'requires zstd (Debian package)');
const token = Math.random().toString(36).slice(2, 8);

test('an image with zstd layers pulls, unpacks and mounts', { skip, timeout: 60_000 }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), `berth-zstd-${token}-`));
  const registry = await startRegistry();
  const client = new RegistryClient();
  const service = new ImageService({ root: path.join(base, 'image') });
  try {
    const rootfs = await makeBusyboxRootfs(path.join(base, 'rootfs'), { probe: false });
    const source = new FileContentStore(path.join(base, 'source'));
    for (const format of ['oci', 'docker'] as const) {
      const image = await buildImage(source, [{ dir: rootfs }, { files: { 'etc/berth-zstd': `zstd ${format} ${token}\n` } }],
        { format, compression: 'zstd' });
      assert.equal(image.layers[0]?.mediaType, format === 'oci' ? MediaType.ociLayerZstd : MediaType.dockerLayerZstd);
      const name = `${registry.host}/berth/${token}/zstd-${format}:v1`;
      const names = new NameTable();
      names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
      await pushImage(client, names.pushStore(source), name);

      const pulled = await pullImage(client, service.pullStore(), name);
      assert.deepEqual(pulled.config.rootfs.diff_ids, image.diffIds, 'diff IDs are of the uncompressed tars');
      const key = `berth-zstd-${token}-${format}`;
      const root = await service.rootfs().mount(key, name);
      assert.equal(await readFile(path.join(root, 'etc/berth-zstd'), 'utf8'), `zstd ${format} ${token}\n`);
      assert.ok(existsSync(path.join(root, 'bin/busybox')), 'the busybox layer unpacked');
      await service.rootfs().remove(key);
    }
  } finally {
    client.close();
    const pid = registry.pid;
    await registry.stop();
    assert.deepEqual(await mountPointsUnder(base), [], 'no mounts left');
    await rm(base, { recursive: true, force: true });
    assert.ok(processGone(pid), 'registry stopped');
  }
});
