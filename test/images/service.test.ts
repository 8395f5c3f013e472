// The images service end to end on a real overlay snapshotter: busybox base image, tag,
// list/inspect/history, import with --change, commit of a container diff, export, Docker's
// rmi conflict rules, prune and GC; nothing mounted or left behind at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, unlink, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { ImageService, type ImageUser } from '../../src/daemon/images/image-service.js';
import { createBusyboxImage, exportRootfs, importImage } from '../../src/daemon/images/import-export.js';
import { readTar } from '../../src/store/archive/tar-reader.js';
import { writeTar } from '../../src/store/archive/tar-writer.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { isBerthError } from '../../src/errors/berth-error.js';
import { parseNormalizedReference } from '../../src/oci/reference.js';

const skip = requires('root', 'overlay');

async function names(tar: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(tar)) out.push(e.header.name);
  return out;
}

test('images service: tag, inspect, commit, import, export, rmi rules, prune, gc', { skip, timeout: 120_000 }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-images-'));
  const users = new Map<string, ImageUser[]>();
  const service = new ImageService({ root: path.join(base, 'image'), imageUsers: async (id) => users.get(id) ?? [] });
  const key = `berth-svc-${process.pid}`;
  try {
    const busybox = await createBusyboxImage(service, { reference: 'berth-svc/busybox' });
    assert.equal(await createBusyboxImage(service, { reference: 'berth-svc/busybox' }), busybox, 'same host busybox, same image ID');
    await service.tag('berth-svc/busybox', 'localhost:5000/berth/svc:v1');
    assert.equal((await service.resolve(busybox.slice(7, 19))).record.id, busybox, 'ID prefix');
    assert.equal((await service.resolve('localhost:5000/berth/svc:v1')).record.id, busybox);
    await assert.rejects(service.resolve('berth-svc/nope'), (e: unknown) => isBerthError(e, 'not_found') && /^No such image: berth-svc\/nope:latest$/.test(e.message));
    const inspect = await service.inspect('berth-svc/busybox:latest');
    assert.deepEqual(inspect.RepoTags, ['berth-svc/busybox:latest', 'localhost:5000/berth/svc:v1']);
    assert.deepEqual(inspect.Config?.Cmd, ['sh']);
    assert.equal(inspect.RootFS.Layers.length, 1);
    assert.ok(inspect.Size > 500_000);

    // a container changes its root; commit makes a two-layer image with a history entry
    const rootfs = service.rootfs();
    const root = await rootfs.mount(key, 'berth-svc/busybox');
    await writeFile(path.join(root, 'etc/motd'), 'hello from berth\n');
    await unlink(path.join(root, 'etc/hostname'));
    const committed = await service.commit({ containerId: key, parentImageId: busybox, config: { ...inspect.Config, Cmd: ['cat', '/etc/motd'] },
      repo: 'berth-svc/committed', tag: 't1', comment: 'added motd', createdBy: 'berth commit' });
    const history = await service.history('berth-svc/committed:t1');
    assert.equal(history.length, 2);
    assert.equal(history[0]?.Id, committed);
    assert.equal(history[0]?.Comment, 'added motd');
    assert.equal((await service.inspect(committed)).Parent, busybox);
    const check = await rootfs.mount(`${key}-check`, committed);
    assert.equal(await readFile(path.join(check, 'etc/motd'), 'utf8'), 'hello from berth\n');
    await assert.rejects(readFile(path.join(check, 'etc/hostname')), /ENOENT/);
    assert.ok((await names(exportRootfs(check))).includes('etc/motd'));
    await rootfs.remove(`${key}-check`);

    // rmi rules: a parent with children, an image a container uses, multiple repositories
    await assert.rejects(service.remove(busybox, { force: true }), /has dependent child images/);
    users.set(committed, [{ containerId: 'c0ffee00c0ffee00', running: true }]);
    await assert.rejects(service.remove(committed, { force: true }), (e: unknown) => isBerthError(e, 'conflict') && /cannot be forced.*running container c0ffee00c0ff/.test(e.message));
    users.set(committed, [{ containerId: 'c0ffee00c0ffee00', running: false }]);
    await assert.rejects(service.remove('berth-svc/committed:t1'), /unable to remove repository reference "berth-svc\/committed:t1" \(must force\)/);
    users.delete(committed);
    assert.deepEqual(await service.remove('localhost:5000/berth/svc:v1'), [{ Untagged: 'localhost:5000/berth/svc:v1' }]);
    assert.deepEqual(await service.remove('berth-svc/committed:t1'), [{ Untagged: 'berth-svc/committed:t1' }, { Deleted: committed }]);

    // import with --change, from a gzip-less tar stream
    const tar = writeTar([{ header: { name: 'hello.txt', type: 'file', mode: 0o644, size: 2 }, body: Buffer.from('hi') }]);
    const imported = await importImage(service, tar, { reference: 'berth-svc/imported:1', changes: ['CMD ["/hello"]', 'ENV A=b', 'EXPOSE 8080'], message: 'from a test' });
    const importedInspect = await service.inspect(imported);
    assert.deepEqual(importedInspect.Config?.Cmd, ['/hello']);
    assert.deepEqual(importedInspect.Config?.ExposedPorts, { '8080/tcp': {} });
    assert.equal(importedInspect.Comment, 'from a test');

    // dangling prune, then everything prune; GC leaves no blobs or layers behind
    await service.tag(imported, 'berth-svc/other:2');
    await service.remove('berth-svc/imported:1');
    assert.equal((await service.list()).length, 2);
    assert.deepEqual((await service.prune()).ImagesDeleted, [], 'nothing dangling');
    await rootfs.remove(key);
    const pruned = await service.prune({ all: true });
    assert.ok(pruned.ImagesDeleted.some((d) => d.Deleted === busybox));
    assert.ok(pruned.SpaceReclaimed > 0);
    assert.deepEqual(await service.list(), []);
    const blobs: string[] = [];
    await service.content.walk((b) => { blobs.push(b.digest); });
    assert.deepEqual(blobs, []);
    assert.deepEqual(await service.snapshotter.listLayers(), []);
  } finally {
    await service.rootfs().remove(key).catch(() => undefined);
    await service.rootfs().remove(`${key}-check`).catch(() => undefined);
    assert.deepEqual(await mountPointsUnder(base), [], 'no mounts left');
    await rm(base, { recursive: true, force: true });
  }
});

test('pull and push adapters: a tag names the index, the platform manifest is recorded', { skip }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-images-adapters-'));
  const service = new ImageService({ root: path.join(base, 'image') });
  try {
    const id = await createBusyboxImage(service, { reference: 'berth-adapt/local' });
    const record = (await service.resolve(id)).record;
    const { writeBlob } = await import('../../src/store/content/file-content-store.js');
    const { digestOf } = await import('../../src/oci/digest.js');
    const { MediaType } = await import('../../src/oci/image.js');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [
      { ...record.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, digest: digestOf('elsewhere'), size: 9 },
      { ...record.manifest, platform: { os: 'linux', architecture: service.platform.architecture } },
    ] }));
    const indexDescriptor = { mediaType: MediaType.ociIndex, digest: digestOf(index), size: index.length };
    await writeBlob(service.content, index, indexDescriptor);
    const ref = parseNormalizedReference('localhost:5000/berth/adapt:v2');
    await service.pullStore().tag(ref, indexDescriptor);
    const pulled = await service.resolve('localhost:5000/berth/adapt:v2');
    assert.equal(pulled.record.id, id);
    assert.equal(pulled.record.index?.digest, indexDescriptor.digest);
    assert.deepEqual((await service.inspect(id)).RepoDigests, [`localhost:5000/berth/adapt@${indexDescriptor.digest}`]);
    assert.equal((await service.resolve(`localhost:5000/berth/adapt@${indexDescriptor.digest}`)).record.id, id);
    assert.equal((await service.pushStore().resolve(ref)).digest, indexDescriptor.digest);
    assert.equal((await service.pushStore().resolve(parseNormalizedReference('berth-adapt/local'))).digest, record.manifest.digest);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
