// ImageService keeps each image's unpacked chain (what every container create mounts): these
// check that a removal of a layer or of the image ends what it kept, on the copying
// snapshotter (no root, no overlay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBerthError } from '../../errors/berth-error.js';
import type { Digest } from '../../oci/digest.js';
import { writeTar } from '../../store/archive/tar-writer.js';
import { ImageService } from './image-service.js';
import { storeLayerTar } from './layers.js';

async function withService(run: (service: ImageService) => Promise<void>): Promise<void> {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-unpacked-'));
  try {
    await run(new ImageService({ root: path.join(base, 'image'), driver: 'native' }));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function oneLayerImage(service: ImageService, text: string): Promise<Digest> {
  const tar = writeTar([{ header: { name: 'hello.txt', type: 'file', mode: 0o644, size: text.length }, body: Buffer.from(text) }]);
  const layer = await storeLayerTar(service.content, service.tmpDir, tar);
  const record = await service.createImage({
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } }, layers: [layer.descriptor],
  });
  return record.id;
}

test('unpack: a removed layer is unpacked again, not taken from what was kept', async () => {
  await withService(async (service) => {
    const id = await oneLayerImage(service, 'hi');
    const top = await service.unpack(id);
    assert.ok(top !== undefined && await service.snapshotter.hasLayer(top));
    assert.equal(await service.unpack(id), top, 'the same chain the second time');
    await service.snapshotter.removeLayer(top);
    assert.equal(await service.snapshotter.hasLayer(top), false);
    assert.equal(await service.unpack(id), top);
    assert.ok(await service.snapshotter.hasLayer(top), 'the layer is back after the unpack');
    const root = await service.rootfs().mount('berth-unpacked-key', id);
    assert.ok(root.length > 0);
    await service.rootfs().remove('berth-unpacked-key');
  });
});

test('unpack: a removed image is not found any more', async () => {
  await withService(async (service) => {
    const id = await oneLayerImage(service, 'bye');
    await service.unpack(id);
    await service.remove(id, { noPrune: true });
    await assert.rejects(service.unpack(id), (e: unknown) => isBerthError(e, 'not_found'));
    await assert.rejects(service.rootfs().mount('berth-unpacked-gone', id), (e: unknown) => isBerthError(e, 'not_found'));
  });
});
