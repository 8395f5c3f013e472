import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileContentStore, writeBlob } from '../content/file-content-store.js';
import { ImageMetadataStore } from './image-metadata.js';
import { collectGarbage } from './gc.js';
import { digestOf, type Digest } from '../../oci/digest.js';
import { MediaType, type Descriptor } from '../../oci/image.js';
import { chainIds, type ActiveSnapshot, type LayerInfo, type Snapshotter } from '../snapshots/snapshotter.js';

/** A recording fake: layers and active snapshots in memory. */
function fakeSnapshotter(layers: LayerInfo[], active: ActiveSnapshot[]): Snapshotter & { removed: Digest[] } {
  const removed: Digest[] = [];
  const fail = async (): Promise<never> => { throw new Error('not used'); };
  return {
    driver: 'native', removed,
    get layerRemovals() { return removed.length; },
    listLayers: async () => layers.filter((l) => !removed.includes(l.chainId)),
    listActive: async () => active,
    removeLayer: async (c) => { removed.push(c); },
    hasLayer: fail, unpackLayer: fail, prepare: fail, remove: fail, unmount: fail, sweep: fail,
    diff: () => { throw new Error('not used'); },
  };
}

async function put(store: FileContentStore, value: unknown, mediaType: string): Promise<Descriptor> {
  const bytes = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  const d = { mediaType, digest: digestOf(bytes), size: bytes.length };
  await writeBlob(store, bytes, d);
  return d;
}

test('gc keeps what images, leases and active snapshots reach, and removes the rest', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-gc-'));
  try {
    const content = new FileContentStore(path.join(root, 'content'));
    const metadata = new ImageMetadataStore(path.join(root, 'metadata'));
    const layerBlob = await put(content, 'layer-bytes', MediaType.ociLayerGzip);
    const diffIds = [digestOf('diff-1'), digestOf('diff-2')];
    const config = await put(content, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }, MediaType.ociConfig);
    const layer2 = await put(content, 'layer-2', MediaType.ociLayerGzip);
    const manifest = await put(content, { schemaVersion: 2, config, layers: [layerBlob, layer2] }, MediaType.ociManifest);
    const orphan = await put(content, 'nobody wants me', MediaType.ociLayer);
    const leased = await put(content, 'being pulled', MediaType.ociLayer);
    await metadata.putImage({ id: config.digest, manifest, repoDigests: [], createdAt: 1 });
    await metadata.updateNames(new Map([['docker.io/library/x:latest', config.digest]]));
    await metadata.putLease({ id: 'pull-1', blobs: [leased.digest], layers: [], expiresAt: Date.now() + 60_000 });
    await metadata.putLease({ id: 'old', blobs: [orphan.digest], layers: [], expiresAt: 1 });
    const [c1, c2] = chainIds(diffIds) as [Digest, Digest];
    const strayParent = digestOf('stray-parent');
    const stray = digestOf('stray');
    const snapshotter = fakeSnapshotter([
      { chainId: c1, diffId: diffIds[0]!, size: 1, createdAt: 0 }, { chainId: c2, parent: c1, diffId: diffIds[1]!, size: 1, createdAt: 0 },
      { chainId: strayParent, diffId: strayParent, size: 5, createdAt: 0 }, { chainId: stray, parent: strayParent, diffId: stray, size: 7, createdAt: 0 },
      { chainId: digestOf('used-by-container'), diffId: digestOf('u'), size: 3, createdAt: 0 },
    ], [{ key: 'ctr', parent: digestOf('used-by-container'), root: '/x', createdAt: 0 }]);
    const result = await collectGarbage(metadata, content, snapshotter);
    assert.deepEqual(result.blobsRemoved, [orphan.digest]);
    assert.deepEqual(result.layersRemoved.sort(), [stray, strayParent].sort());
    assert.equal(result.bytesReclaimed, orphan.size + 12);
    assert.deepEqual((await metadata.listLeases()).map((l) => l.id), ['pull-1'], 'expired lease dropped');
    await content.info(leased.digest);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the name table and image records survive a new store instance (atomic files)', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-meta-'));
  try {
    const first = new ImageMetadataStore(root);
    const id = digestOf('config');
    const manifest = { mediaType: MediaType.ociManifest, digest: digestOf('m'), size: 1 };
    await first.putImage({ id, manifest, repoDigests: [], createdAt: 5 });
    await Promise.all([1, 2, 3].map((n) => first.updateNames(new Map([[`docker.io/library/n${n}:latest`, id]]))));
    const second = new ImageMetadataStore(root);
    assert.equal((await second.listNames()).size, 3, 'concurrent updates all kept');
    assert.equal((await second.getImage(id)).createdAt, 5);
    await second.updateNames(new Map([['docker.io/library/n1:latest', undefined]]));
    assert.equal(await new ImageMetadataStore(root).getName('docker.io/library/n1:latest'), undefined);
    await assert.rejects(second.getImage(digestOf('absent')), /no such image/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
