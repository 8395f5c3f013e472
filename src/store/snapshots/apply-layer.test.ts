import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, readlink, rm, lstat, mkdir, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyLayer } from './apply-layer.js';
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
