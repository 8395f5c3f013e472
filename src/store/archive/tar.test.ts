import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTar, readTarSync, cleanEntryPath, type TarHeader } from './tar-reader.js';
import { writeTar, type TarWriteEntry } from './tar-writer.js';

async function collect(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Array<{ header: TarHeader; data: string }>> {
  const out: Array<{ header: TarHeader; data: string }> = [];
  for await (const entry of readTar(source)) {
    const chunks: Buffer[] = [];
    for await (const c of entry.body()) chunks.push(c);
    out.push({ header: entry.header, data: Buffer.concat(chunks).toString() });
  }
  return out;
}

async function bytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of writeTar(entries)) chunks.push(c);
  return Buffer.concat(chunks);
}

const longName = 'deep/' + 'x'.repeat(120) + '/' + 'y'.repeat(120) + '/file.txt';

test('round trip: long names, xattrs, links, big ids survive write then read', async () => {
  const tar = await bytes([
    { header: { name: 'dir/', type: 'dir', mode: 0o755 } },
    { header: { name: longName, type: 'file', mode: 0o640, size: 5, uid: 1000, gid: 3000000, mtime: 1700000000,
      xattrs: new Map([['security.capability', Buffer.from([1, 0, 0, 2, 10, 0])], ['user.k', Buffer.from('v\nw')]]) }, body: Buffer.from('hello') },
    { header: { name: 'dir/link', type: 'symlink', mode: 0o777, linkname: '../' + 'z'.repeat(150) } },
    { header: { name: 'dir/hard', type: 'hardlink', mode: 0o640, linkname: longName } },
  ]);
  const entries = await collect([tar]);
  assert.equal(entries.length, 4);
  const file = entries[1]!;
  assert.equal(file.header.name, longName);
  assert.equal(file.data, 'hello');
  assert.equal(file.header.gid, 3000000);
  assert.deepEqual(file.header.xattrs.get('security.capability'), Buffer.from([1, 0, 0, 2, 10, 0]));
  assert.equal(file.header.xattrs.get('user.k')?.toString(), 'v\nw');
  assert.equal(entries[2]!.header.linkname, '../' + 'z'.repeat(150));
  assert.equal(entries[3]!.header.type, 'hardlink');
});

test('malformed archives are rejected with the entry named', async () => {
  const tar = await bytes([{ header: { name: 'a.txt', type: 'file', mode: 0o644, size: 1000 }, body: Buffer.alloc(1000) }]);
  await assert.rejects(collect([tar.subarray(0, 800)]), /truncated in entry "a.txt"/);
  const bad = Buffer.from(tar);
  bad[10] = 0x41;
  await assert.rejects(collect([bad]), /checksum/);
  const many = await bytes(Array.from({ length: 5 }, (_, i) => ({ header: { name: `f${i}`, type: 'file' as const, mode: 0o644, size: 0 } })));
  const limited = async (): Promise<void> => {
    for await (const _ of readTar([many], { maxEntries: 3, maxEntryBytes: 10, maxTotalBytes: 10, maxNameLength: 100, maxPaxBytes: 100 })) { /* drain */ }
  };
  await assert.rejects(limited(), /more than 3 entries/);
});

test('cleanEntryPath rejects escapes', () => {
  assert.equal(cleanEntryPath('./a//b/./c'), 'a/b/c');
  assert.throws(() => cleanEntryPath('../etc/passwd'), /"\.\." leads out/);
  assert.throws(() => cleanEntryPath('a/../../b'), /"\.\." leads out/);
  assert.throws(() => cleanEntryPath('/etc/passwd'), /absolute/);
});

/** The synchronous reader over chunks that all share one small buffer (as the unpack worker's decompressor hands them out). */
function collectSync(tar: Buffer, size: number): Array<{ header: TarHeader; data: string }> {
  const shared = Buffer.alloc(size);
  let offset = 0;
  const next = (): Buffer | undefined => {
    if (offset >= tar.length) return undefined;
    const n = tar.copy(shared, 0, offset, offset + size);
    offset += n;
    return shared.subarray(0, n);
  };
  const out: Array<{ header: TarHeader; data: string }> = [];
  for (const entry of readTarSync(next)) {
    const chunks: Buffer[] = [];
    for (const c of entry.body()) chunks.push(Buffer.from(c));
    out.push({ header: entry.header, data: Buffer.concat(chunks).toString() });
  }
  return out;
}

test('the synchronous reader gives what the streaming one does, whatever the chunk size, and rejects the same', async () => {
  const tar = await bytes([
    { header: { name: longName, type: 'file', mode: 0o640, size: 700, xattrs: new Map([['user.k', Buffer.from('v')]]) }, body: Buffer.alloc(700, 'z') },
    { header: { name: 'dir/link', type: 'symlink', mode: 0o777, linkname: '../' + 'z'.repeat(150) } },
    { header: { name: 'small', type: 'file', mode: 0o644, size: 3 }, body: Buffer.from('abc') },
  ]);
  const streamed = await collect([tar]);
  for (const size of [1, 100, 511, 513, 4096, tar.length]) assert.deepEqual(collectSync(tar, size), streamed, `chunks of ${size}`);
  for (const cut of [1500, 2100]) {
    const expected = await collect([tar.subarray(0, cut)]).then(() => 'no error', (err: Error) => err.message);
    assert.match(expected, /truncated/);
    assert.throws(() => collectSync(tar.subarray(0, cut), 300), { message: expected });
  }
  const bad = Buffer.from(tar);
  bad[10] = (bad[10] ?? 0) ^ 0xff;
  assert.throws(() => collectSync(bad, 512), /checksum mismatch/);
});
