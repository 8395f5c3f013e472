// Hostile archives and layers: each case asserts the rejection (naming the entry or
// digest) and that the store is as before (names, images, layers; old blobs intact).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { ImageService } from '../../src/daemon/images/image-service.js';
import { createBusyboxImage, importImage } from '../../src/daemon/images/import-export.js';
import { loadImages, saveImages } from '../../src/daemon/images/archive.js';
import { writeTar, type TarWriteEntry } from '../../src/store/archive/tar-writer.js';
import { readTar } from '../../src/store/archive/tar-reader.js';
import { digestOf } from '../../src/oci/digest.js';
import { isBerthError } from '../../src/errors/berth-error.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';

const skip = requires('root', 'overlay');
let base = '';
let service: ImageService;
const busyboxArchive: Array<{ name: string; data: Buffer }> = [];

async function bytes(entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of writeTar(entries)) out.push(c);
  return Buffer.concat(out);
}

async function storeState(): Promise<unknown> {
  const blobs: string[] = [];
  await service.content.walk((i) => { blobs.push(i.digest); });
  return {
    names: [...await service.metadata.listNames()].sort(),
    images: (await service.metadata.listImages()).map((r) => r.id).sort(),
    layers: (await service.snapshotter.listLayers()).map((l) => l.chainId).sort(),
    blobs: blobs.sort(),
  };
}

async function expectRejected(work: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = await storeState() as { blobs: string[] };
  await assert.rejects(work, (err: unknown) => {
    assert.ok(isBerthError(err), `a BerthError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
  const after = await storeState() as { names: unknown; images: unknown; layers: unknown; blobs: string[] };
  const { blobs: _b, ...beforeRest } = before as Record<string, unknown>;
  const { blobs: afterBlobs, ...afterRest } = after as unknown as Record<string, unknown> & { blobs: string[] };
  assert.deepEqual(afterRest, beforeRest, 'names, images and layers unchanged');
  for (const blob of before.blobs) assert.ok(afterBlobs.includes(blob), `blob ${blob} still there`);
  for (const blob of before.blobs) await service.content.readBlob(blob as never, 1 << 30); // still verifies
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

before(async () => {
  if (skip !== false) return;
  base = await mkdtemp(path.join(tmpdir(), 'berth-hostile-'));
  service = new ImageService({ root: path.join(base, 'image') });
  await createBusyboxImage(service, { reference: 'berth-hostile/busybox:1' });
  const saved: Buffer[] = [];
  for await (const c of saveImages(service, ['berth-hostile/busybox:1'])) saved.push(c);
  for await (const e of readTar([Buffer.concat(saved)])) {
    const chunks: Buffer[] = [];
    for await (const c of e.body()) chunks.push(c);
    if (e.header.type === 'file') busyboxArchive.push({ name: e.header.name, data: Buffer.concat(chunks) });
  }
});

after(async () => {
  if (skip !== false) return;
  assert.deepEqual(await mountPointsUnder(base), []);
  await rm(base, { recursive: true, force: true });
});

const file = (name: string, data: string): TarWriteEntry => ({ header: { name, type: 'file', mode: 0o644, size: data.length }, body: Buffer.from(data) });

test('layers with .., absolute paths, symlink escapes or outside hardlinks are rejected', { skip }, async () => {
  const cases: Array<[TarWriteEntry[], RegExp]> = [
    [[file('../escape', 'x')], /layer entry "..\/escape": ".." leads out of the root|"\.\." leads out/],
    [[file('/etc/shadow', 'x')], /absolute paths are not allowed/],
    [[{ header: { name: 'evil', type: 'symlink', mode: 0o777, linkname: '/etc' } }, file('evil/cron', 'x')], /layer entry "evil\/cron": parent "evil" is a symlink/],
    [[{ header: { name: 'pw', type: 'hardlink', mode: 0, linkname: '../../../../etc/passwd' } }], /layer entry "pw": hardlink target .* leads out of the root/],
    [[file('twice', 'a'), file('twice', 'b')], /layer entry "twice": duplicate entry/],
  ];
  for (const [entries, message] of cases) {
    const tar = await bytes(entries);
    await expectRejected(() => importImage(service, once(tar), { reference: 'berth-hostile/evil:1' }), message);
  }
});

test('a docker archive whose layer does not match its diff ID is rejected', { skip }, async () => {
  const tampered = busyboxArchive.map((f) => {
    if (!f.name.startsWith('blobs/') || f.data.length < 100000) return f;
    const data = Buffer.from(f.data);
    data.writeUInt8(data.readUInt8(data.length - 2000) ^ 0xff, data.length - 2000); // inside the gzip stream
    return { name: f.name, data };
  });
  const manifestOnly = tampered.filter((f) => f.name !== 'index.json');
  await expectRejected(async () => await loadImages(service, once(await bytes(manifestOnly.map((f) => ({ header: { name: f.name, type: 'file' as const, mode: 0o644, size: f.data.length }, body: f.data }))))),
    /layer "blobs\/sha256\/[a-f0-9]+"|does not match its digest|gzip data is corrupt|unpacks to/);
});

test('an OCI layout with a wrong digest, a wrong size or a truncated blob is rejected', { skip }, async () => {
  // an empty store: blobs already present are never read from an archive, so tampering them would go unnoticed (and harmless)
  const original = service;
  service = new ImageService({ root: path.join(base, 'fresh') });
  try {
  const withoutManifestJson = busyboxArchive.filter((f) => f.name !== 'manifest.json');
  const asEntries = (files: typeof busyboxArchive): TarWriteEntry[] =>
    files.map((f) => ({ header: { name: f.name, type: 'file', mode: 0o644, size: f.data.length }, body: f.data }));
  // the config blob replaced by other bytes under the same name
  const config = withoutManifestJson.find((f) => f.data.toString().includes('"rootfs"'))!;
  const swapped = withoutManifestJson.map((f) => (f === config ? { ...f, data: Buffer.from(f.data.toString().replace('"amd64"', '"arm64"')) } : f));
  await expectRejected(async () => await loadImages(service, once(await bytes(asEntries(swapped)))), /does not match its digest|bytes, descriptor says/);
  // a layer truncated
  const layer = withoutManifestJson.reduce((a, b) => (a.data.length > b.data.length ? a : b));
  const truncated = withoutManifestJson.map((f) => (f === layer ? { ...f, data: f.data.subarray(0, 1000) } : f));
  await expectRejected(async () => await loadImages(service, once(await bytes(asEntries(truncated)))), /bytes, descriptor says \d+/);
  // a manifest naming a blob the archive lacks
  const missing = withoutManifestJson.filter((f) => f !== layer);
  await expectRejected(async () => await loadImages(service, once(await bytes(asEntries(missing)))), /image archive is missing "blobs\/sha256\/[a-f0-9]+"/);
  } finally {
    service = original;
  }
});

test('config JSON with bad fields and malformed manifest.json are rejected naming the field', { skip }, async () => {
  const badConfig = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:nothex'] } });
  const cfgName = `blobs/sha256/${digestOf(badConfig).slice(7)}`;
  const archive = await bytes([file(cfgName, badConfig), file('manifest.json', JSON.stringify([{ Config: cfgName, RepoTags: ['x:1'], Layers: [] }]))]);
  await expectRejected(() => loadImages(service, once(archive)), /field "rootfs.diff_ids.0"/);
  await expectRejected(async () => loadImages(service, once(await bytes([file('manifest.json', '[{"Config": 5}]')]))), /field "0.Config"/);
  await expectRejected(async () => loadImages(service, once(await bytes([file('manifest.json', '{nope')]))), /not valid JSON/);
  await expectRejected(async () => loadImages(service, once(await bytes([file('other', 'x')]))), /neither manifest.json nor index.json/);
});

test('entry counts and sizes are bounded', { skip }, async () => {
  const many = await bytes(Array.from({ length: 50 }, (_, i) => file(`f${i}`, 'x')));
  await expectRejected(() => loadImages(service, once(many), { maxEntries: 10, maxEntryBytes: 1 << 20, maxTotalBytes: 1 << 20, maxNameLength: 255, maxPaxBytes: 4096 }),
    /more than 10 entries/);
  const big = await bytes([file('big', 'y'.repeat(5000))]);
  await expectRejected(() => loadImages(service, once(big), { maxEntries: 10, maxEntryBytes: 1000, maxTotalBytes: 1 << 20, maxNameLength: 255, maxPaxBytes: 4096 }),
    /tar entry "big" is 5000 bytes, over the limit of 1000/);
});
