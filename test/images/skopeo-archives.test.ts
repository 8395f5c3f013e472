// Archives against skopeo, the reference for OCI layouts: berth's save read by skopeo as a
// docker-archive, converted to an oci-archive by skopeo, and that loaded back into berth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { createBusyboxImage } from '../../src/daemon/images/import-export.js';
import { loadImages, saveImages } from '../../src/daemon/images/archive.js';

const skip = requires('root', 'overlay') || (existsSync('/usr/bin/skopeo') ? false : 'requires skopeo');

test('skopeo reads berth save output, and berth loads a skopeo oci-archive', { skip, timeout: 120_000 }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-skopeo-archive-'));
  try {
    const source = new ImageService({ root: path.join(base, 'a') });
    const id = await createBusyboxImage(source, { reference: 'berth-skopeo/busybox:3' });
    const chunks: Buffer[] = [];
    for await (const c of saveImages(source, ['berth-skopeo/busybox:3'])) chunks.push(c);
    await writeFile(path.join(base, 'saved.tar'), Buffer.concat(chunks));
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${path.join(base, 'saved.tar')}`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(inspected.rootfs.diff_ids, (await source.inspect(id)).RootFS.Layers);
    execFileSync('skopeo', ['copy', '--quiet', `docker-archive:${path.join(base, 'saved.tar')}`,
      `oci-archive:${path.join(base, 'oci.tar')}:docker.io/berth-skopeo/converted:4`]);

    const target = new ImageService({ root: path.join(base, 'b') });
    const result = await loadImages(target, createReadStream(path.join(base, 'oci.tar')));
    assert.equal(result.images.length, 1); // skopeo rewrites the config when converting, so the ID differs
    assert.deepEqual((await target.inspect(result.images[0]!)).RootFS.Layers, (await source.inspect(id)).RootFS.Layers);
    assert.deepEqual(result.messages, ['Loaded image: berth-skopeo/converted:4']);
    const root = await target.rootfs().mount(`berth-skopeo-${process.pid}`, 'berth-skopeo/converted:4');
    assert.ok(existsSync(path.join(root, 'bin/busybox')));
    await target.rootfs().remove(`berth-skopeo-${process.pid}`);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
