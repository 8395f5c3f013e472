// save -> real dockerd load, and dockerd save -> berth load: same image IDs and layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, access } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { requires } from '../support/requirements.js';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { createBusyboxImage } from '../../src/daemon/images/import-export.js';
import { loadImages, saveImages } from '../../src/daemon/images/archive.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { startDockerd } from './dockerd.js';

const skip = requires('root', 'docker', 'overlay');

test('berth save loads into dockerd, and dockerd save loads into berth', { skip, timeout: 240_000 }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-interop-'));
  const dockerd = await startDockerd();
  const service = new ImageService({ root: path.join(base, 'image') });
  try {
    // berth -> docker
    const id = await createBusyboxImage(service, { reference: 'berth-interop/busybox:1' });
    const saved: Buffer[] = [];
    for await (const chunk of saveImages(service, ['berth-interop/busybox:1'])) saved.push(chunk);
    await writeFile(path.join(base, 'berth.tar'), Buffer.concat(saved));
    const loaded = dockerd.docker(['load', '-i', path.join(base, 'berth.tar')]);
    assert.match(loaded, /Loaded image: berth-interop\/busybox:1/);
    assert.equal(dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'berth-interop/busybox:1']).trim(), id);
    const ourLayers = (await service.inspect(id)).RootFS.Layers;
    assert.deepEqual(JSON.parse(dockerd.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', id])), ourLayers);

    // docker -> berth: an image made by `docker import`, saved in dockerd's own format
    const rootfs = await makeBusyboxRootfs(path.join(base, 'rootfs'), { probe: false });
    const tar = execFileSync('tar', ['-C', rootfs, '-cf', '-', '.'], { maxBuffer: 1 << 28 });
    dockerd.docker(['import', '--change', 'CMD ["/bin/sh"]', '-', 'berth-interop/imported:2'], tar);
    const dockerId = dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'berth-interop/imported:2']).trim();
    dockerd.docker(['save', '-o', path.join(base, 'docker.tar'), 'berth-interop/imported:2']);
    const result = await loadImages(service, createReadStream(path.join(base, 'docker.tar')));
    assert.deepEqual(result.messages, ['Loaded image: berth-interop/imported:2']);
    assert.deepEqual(result.images, [dockerId]);
    const inspect = await service.inspect('berth-interop/imported:2');
    assert.deepEqual(inspect.Config?.Cmd, ['/bin/sh']);
    const root = await service.rootfs().mount(`berth-interop-${process.pid}`, 'berth-interop/imported:2');
    await access(path.join(root, 'bin/busybox'));
    assert.equal((await readFile(path.join(root, 'etc/group'), 'utf8')).split('\n')[0], 'root:x:0:');
    await service.rootfs().remove(`berth-interop-${process.pid}`);
    assert.deepEqual(await mountPointsUnder(base), []);
  } finally {
    await dockerd.stop();
    for (const m of await mountPointsUnder(base)) execFileSync('umount', ['-l', m]);
    await rm(base, { recursive: true, force: true });
  }
});
