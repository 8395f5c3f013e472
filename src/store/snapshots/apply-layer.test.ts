import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, readlink, rm, lstat, mkdir, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyLayer, applyLayerSync } from './apply-layer.js';
import { directoryDiff } from './diff-layer.js';
import { writeTar, type TarWriteEntry } from '../archive/tar-writer.js';
import { isBerthError } from '../../errors/berth-error.js';

const file = (name: string, data: string, mode = 0o644): TarWriteEntry =>
  ({ header: { name, type: 'file', mode, size: Buffer.byteLength(data), mtime: 1600000000 }, body: Buffer.from(data) });
const dir = (name: string, mode = 0o755): TarWriteEntry => ({ header: { name, type: 'dir', mode, mtime: 1600000000 } });

async function withRoot(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-apply-'));
  try {
    await mkdir(path.join(base, 'root'));
    await mkdir(path.join(base, 'outside'));
    await fn(path.join(base, 'root'), path.join(base, 'outside'));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function listing(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).sort();
}

const apply = (root: string, entries: TarWriteEntry[]) => applyLayer(root, writeTar(entries), { whiteouts: 'remove' });

test('files, dirs, symlinks, hardlinks and modes are applied', () => withRoot(async (root) => {
  await apply(root, [dir('etc/'), file('etc/passwd', 'root:x:0:0\n', 0o600), { header: { name: 'etc/pw', type: 'hardlink', mode: 0, linkname: 'etc/passwd' } },
    { header: { name: 'bin', type: 'symlink', mode: 0o777, linkname: 'usr/bin' } }]);
  assert.equal(await readFile(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0\n');
  assert.equal((await lstat(path.join(root, 'etc/passwd'))).mode & 0o777, 0o600);
  assert.equal((await lstat(path.join(root, 'etc/pw'))).ino, (await lstat(path.join(root, 'etc/passwd'))).ino);
  assert.equal(await readlink(path.join(root, 'bin')), 'usr/bin');
  assert.equal((await lstat(path.join(root, 'etc'))).mtimeMs, 1600000000 * 1000);
}));

test('whiteouts and opaque dirs delete from the tree below', () => withRoot(async (root) => {
  await apply(root, [dir('a/'), file('a/keep', '1'), file('a/gone', '2'), dir('b/'), file('b/old', '3')]);
  await apply(root, [{ header: { name: 'a/.wh.gone', type: 'file', mode: 0, size: 0 } }, dir('b/'), file('b/new', '4'),
    { header: { name: 'b/.wh..wh..opq', type: 'file', mode: 0, size: 0 } }]);
  assert.deepEqual(await listing(root), ['a', 'a/keep', 'b', 'b/new']);
}));

async function rejects(root: string, outside: string, entries: TarWriteEntry[], message: RegExp): Promise<void> {
  const before = await listing(outside);
  await assert.rejects(apply(root, entries), (e: unknown) => isBerthError(e, 'invalid_argument') && message.test(e.message));
  assert.deepEqual(await listing(outside), before, 'nothing written outside the root');
}

test('hostile entries are rejected and nothing escapes the root', () => withRoot(async (root, outside) => {
  const rel = path.relative(root, outside);
  await rejects(root, outside, [file(`${rel}/evil`, 'x')], /"\.\." leads out/);
  await rejects(root, outside, [file(`${outside}/evil`, 'x')], /absolute paths/);
  await rejects(root, outside, [{ header: { name: 'link', type: 'symlink', mode: 0o777, linkname: outside } }, file('link/evil', 'x')],
    /parent "link" is a symlink/);
  await rejects(root, outside, [{ header: { name: 'h', type: 'hardlink', mode: 0, linkname: '../../etc/passwd' } }], /leads out of the root/);
  await rejects(root, outside, [{ header: { name: 'h2', type: 'hardlink', mode: 0, linkname: '/etc/passwd' } }], /leads out of the root/);
  await rejects(root, outside, [file('dup', 'a'), file('dup', 'b')], /duplicate entry/);
  await rejects(root, outside, [{ header: { name: 'dev/sda', type: 'block', mode: 0o600, devmajor: 8, devminor: 0 } }], /device nodes are not allowed/);
}));

test('a directory diff round-trips through apply', () => withRoot(async (root, outside) => {
  const lower = path.join(outside, 'lower');
  const upper = path.join(outside, 'upper');
  await mkdir(path.join(lower, 'd'), { recursive: true });
  await writeFile(path.join(lower, 'd/same'), 'same');
  await writeFile(path.join(lower, 'd/removed'), 'x');
  await mkdir(path.join(upper, 'd'), { recursive: true });
  await writeFile(path.join(upper, 'd/same'), 'same');
  const { utimes } = await import('node:fs/promises');
  const st = await lstat(path.join(lower, 'd/same'));
  await utimes(path.join(upper, 'd/same'), st.atime, st.mtime);
  await writeFile(path.join(upper, 'd/added'), 'new');
  await symlink('added', path.join(upper, 'd/ln'));
  await mkdir(path.join(root, 'd'), { recursive: true });
  await writeFile(path.join(root, 'd/removed'), 'x');
  await writeFile(path.join(root, 'd/same'), 'same');
  const entries: string[] = [];
  await applyLayer(root, (async function* () {
    for await (const chunk of directoryDiff(lower, upper)) yield chunk;
  })(), { whiteouts: 'remove' });
  entries.push(...await listing(root));
  assert.deepEqual(entries, ['d', 'd/added', 'd/ln', 'd/same']);
}));

// The synchronous path (the unpack worker's), fed chunks that all share one small buffer, as
// the worker's decompressor hands them out: a view kept past the next chunk would be garbage.
async function sharedChunks(tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size = 997): Promise<() => Buffer | undefined> {
  const parts: Buffer[] = [];
  for await (const c of tar) parts.push(Buffer.from(c));
  const all = Buffer.concat(parts);
  const shared = Buffer.alloc(size);
  let offset = 0;
  return () => {
    if (offset >= all.length) return undefined;
    const n = all.copy(shared, 0, offset, offset + size);
    offset += n;
    return shared.subarray(0, n);
  };
}

const applySync = async (root: string, entries: TarWriteEntry[], whiteouts: 'overlay' | 'remove' = 'remove') =>
  applyLayerSync(root, await sharedChunks(writeTar(entries)), { whiteouts });

test('sync path: contents, modes and times of small, empty and multi-batch files', () => withRoot(async (root) => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const many = Array.from({ length: 600 }, (_, i) => file(`d${i % 7}/f${i}`, `content ${i}\n`, i % 2 === 0 ? 0o644 : 0o600));
  await applySync(root, [dir('d0/'), ...many, file('empty', '', 0o640), file('setuid', '#!', 0o4755),
    { header: { name: 'big', type: 'file', mode: 0o666, size: big.length, mtime: 1600000001 }, body: big }]);
  for (const i of [0, 1, 299, 599]) {
    const st = await lstat(path.join(root, `d${i % 7}/f${i}`));
    assert.equal(await readFile(path.join(root, `d${i % 7}/f${i}`), 'utf8'), `content ${i}\n`);
    assert.equal(st.mode & 0o7777, i % 2 === 0 ? 0o644 : 0o600);
    assert.equal(st.mtimeMs, 1600000000 * 1000);
  }
  assert.equal((await lstat(path.join(root, 'empty'))).size, 0);
  assert.equal((await lstat(path.join(root, 'empty'))).mode & 0o7777, 0o640);
  assert.equal((await lstat(path.join(root, 'setuid'))).mode & 0o7777, 0o4755);
  assert.equal((await lstat(path.join(root, 'big'))).mode & 0o7777, 0o666, 'a mode the umask would cut is set exactly');
  assert.ok((await readFile(path.join(root, 'big'))).equals(big));
  assert.equal((await lstat(path.join(root, 'd0'))).mtimeMs, 1600000000 * 1000, 'directory times after the writers finished');
}));

test('sync path: links, whiteouts and replacements wait for pending files', () => withRoot(async (root) => {
  await applySync(root, [file('a/one', '1'), { header: { name: 'a/hard', type: 'hardlink', mode: 0, linkname: 'a/one' } },
    file('b/gone', 'x'), { header: { name: 'b/.wh.gone', type: 'file', mode: 0, size: 0 } },
    file('c/x', 'x'), { header: { name: 'c', type: 'symlink', mode: 0o777, linkname: 'a' } }]);
  assert.equal((await lstat(path.join(root, 'a/hard'))).ino, (await lstat(path.join(root, 'a/one'))).ino);
  assert.deepEqual((await readdir(root)).sort(), ['a', 'b', 'c']);
  assert.deepEqual(await readdir(path.join(root, 'b')), [], 'the whiteout removed the file written just before');
  assert.equal(await readlink(path.join(root, 'c')), 'a', 'the directory with a pending file became a symlink');
}));

test('sync path: hostile entries are still rejected, nothing escapes and no fd is left open', () => withRoot(async (root, outside) => {
  const fds = (await readdir('/proc/self/fd')).length;
  const rejectsSync = async (entries: TarWriteEntry[], message: RegExp): Promise<void> => {
    const before = await listing(outside);
    await assert.rejects(applySync(root, entries), (e: unknown) => isBerthError(e) && message.test(e.message));
    assert.deepEqual(await listing(outside), before, 'nothing written outside the root');
  };
  await rejectsSync([file('x/link-target', 'x'), { header: { name: 'x/l', type: 'symlink', mode: 0o777, linkname: outside } }, file('x/l/evil', 'x')],
    /parent "x\/l" is a symlink/);
  await rejectsSync([file('f', 'x'), file('f/under', 'y')], /parent "f" is not a directory/);
  await rejectsSync([file('dup2', 'a'), file('dup2', 'b')], /duplicate entry/);
  const truncated = Buffer.from(await (async () => {
    const chunks: Buffer[] = [];
    for await (const c of writeTar([file('t/a', 'a'), { header: { name: 't/big', type: 'file', mode: 0o644, size: 100000, mtime: 1 }, body: Buffer.alloc(100000) }])) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks).subarray(0, 4000);
  })());
  await assert.rejects(async () => applyLayerSync(root, await sharedChunks([truncated]), { whiteouts: 'remove' }), /truncated/);
  assert.equal((await readdir('/proc/self/fd')).length, fds, 'no file descriptor left open by a failed apply');
}));

test('a root that is not empty: existing entries are replaced, not written through', () => withRoot(async (root) => {
  await mkdir(path.join(root, 'etc'));
  await writeFile(path.join(root, 'etc/old'), 'old');
  await symlink('/etc/passwd', path.join(root, 'etc/shadow'));
  await mkdir(path.join(root, 'was-dir/sub'), { recursive: true });
  for (const way of ['stream', 'sync'] as const) {
    const entries = [file('etc/old', `new-${way}`), file('etc/shadow', 'mine'), file('was-dir', 'now a file')];
    if (way === 'stream') await applyLayer(root, writeTar(entries), { whiteouts: 'remove' });
    else await applySync(root, entries);
    assert.equal(await readFile(path.join(root, 'etc/old'), 'utf8'), `new-${way}`);
    assert.equal(await readFile(path.join(root, 'etc/shadow'), 'utf8'), 'mine');
    assert.ok((await lstat(path.join(root, 'etc/shadow'))).isFile(), 'the symlink was replaced, not followed');
    assert.equal(await readFile(path.join(root, 'was-dir'), 'utf8'), 'now a file');
  }
}));
