import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImageMetadataStore } from './image-metadata.js';
import { digestHex, digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/image.js';

const manifest = { mediaType: MediaType.ociManifest, digest: digestOf('m'), size: 1 };

test('image records are kept once read or written: callers get copies, puts and deletes are seen at once', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-meta-'));
  try {
    const store = new ImageMetadataStore(root);
    const id = digestOf('config');
    await store.putImage({ id, manifest, repoDigests: [], createdAt: 5 });
    const file = path.join(root, 'images', `${digestHex(id)}.json`);
    // the disk changes behind the store's back: the kept record answers (the store is the only writer)
    await writeFile(file, '{"garbage": true}');
    const first = await store.getImage(id);
    assert.equal(first.createdAt, 5);
    first.repoDigests.push('changed/by:caller');
    assert.deepEqual((await store.getImage(id)).repoDigests, [], 'a caller changing its copy changes nothing kept');
    await store.putImage({ ...first, repoDigests: [], lastTagTime: 9 });
    assert.equal((await store.getImage(id)).lastTagTime, 9);
    await store.deleteImage(id);
    await assert.rejects(store.getImage(id), /no such image/);
    // a fresh store reads (and validates) the disk
    await writeFile(file, '{"garbage": true}');
    await assert.rejects(new ImageMetadataStore(root).getImage(id), /image record/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a put while a read of the same record is on its way: the put\'s record is the one kept', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-meta-'));
  try {
    const writer = new ImageMetadataStore(root);
    const id = digestOf('config');
    await writer.putImage({ id, manifest, repoDigests: [], createdAt: 1 });
    const store = new ImageMetadataStore(root);
    // the read starts (cache miss, file read on its way) and the put begins before it ends
    const reading = store.getImage(id);
    const putting = store.putImage({ id, manifest, repoDigests: [], createdAt: 2 });
    await Promise.all([reading, putting]);
    assert.equal((await store.getImage(id)).createdAt, 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
