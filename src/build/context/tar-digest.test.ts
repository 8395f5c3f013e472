import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { checksumFromIndex, entryBody, indexTarBuffer, TarIndexer, type TarIndex } from './tar-digest.js';

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

async function makeTarball(files: Record<string, string | Buffer>): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tar-digest-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ cwd: dir, portable: true }, ['.'])) chunks.push(chunk as Buffer);
  await rm(dir, { recursive: true, force: true });
  return Buffer.concat(chunks);
}

/** the index as [name, type, size, digest] rows, to compare two indexes */
const rows = (index: TarIndex): string[] => [...index.entries].map(([name, e]) => `${name} ${e.type} ${e.mode} ${e.size} ${e.digest ?? '-'}`);

test('an index fed in chunks of any size equals the one-buffer index', async () => {
  const big = Buffer.alloc(70_000, 7);
  const longName = `${'deep/'.repeat(30)}file.txt`; // past ustar's 100+155 bytes: a PAX path
  const tarball = await makeTarball({ 'Dockerfile': 'FROM scratch\n', 'a/big.bin': big, 'a/empty': '', [longName]: 'long' });
  const whole = indexTarBuffer(tarball);
  assert.ok(whole.exact);
  assert.equal(whole.entries.get('a/big.bin')?.digest, sha(big));
  assert.equal(whole.entries.get('a/empty')?.digest, sha(''));
  assert.equal(whole.entries.get(longName)?.digest, sha('long'));
  for (const size of [1, 7, 511, 512, 513, 4096, 65_536]) {
    const indexer = new TarIndexer();
    for (let pos = 0; pos < tarball.length; pos += size) indexer.push(tarball.subarray(pos, pos + size));
    const split = indexer.finish();
    assert.ok(split.exact, `chunks of ${size}`);
    assert.deepEqual(rows(split), rows(whole), `chunks of ${size}`);
    const entry = split.entries.get('a/big.bin');
    assert.ok(entry && entryBody(entry)?.equals(big), `body rebuilt from chunks of ${size}`);
  }
});

test('a damaged or truncated tarball makes the index inexact', async () => {
  const tarball = await makeTarball({ 'f.txt': 'hello' });
  const corrupt = Buffer.from(tarball);
  const second = corrupt.indexOf('f.txt');
  corrupt[second + 2] = 'g'.charCodeAt(0); // the name changes, the header checksum does not
  assert.equal(indexTarBuffer(corrupt).exact, false);
  assert.equal(indexTarBuffer(tarball.subarray(0, tarball.length - 1024 - 600)).exact, false, 'no end-of-archive blocks');
  assert.equal(indexTarBuffer(tarball.subarray(0, 1000)).exact, false, 'a body cut short');
});

test('checksumFromIndex names every file with its mode and digest, skipping ignored paths', async () => {
  const index = indexTarBuffer(await makeTarball({ 'tree/a.txt': 'a', 'tree/sub/b.txt': 'b', 'tree/skip.log': 'x' }));
  const files = new Map<string, string>();
  const sum = checksumFromIndex(index, 'tree', (rel) => rel.endsWith('.log'), files);
  assert.ok(sum?.isDir);
  assert.deepEqual([...files.keys()].sort(), ['tree/a.txt', 'tree/sub/b.txt']);
  assert.equal(files.get('tree/a.txt')?.split(':')[1], sha('a'));
  const other = checksumFromIndex(indexTarBuffer(await makeTarball({ 'tree/a.txt': 'A', 'tree/sub/b.txt': 'b' })), 'tree', undefined, new Map());
  assert.notEqual(other?.digest, sum?.digest);
  assert.equal(checksumFromIndex(index, 'missing', undefined, new Map()), undefined);
});

test('checksumFromIndex changes with one byte of any file and with a mode, whatever the chunking', async () => {
  const files = { 'tree/a.bin': Buffer.alloc(40_000, 1), 'tree/sub/b.txt': 'b' };
  const sum = (index: TarIndex): string | undefined => checksumFromIndex(index, 'tree', undefined, new Map())?.digest;
  const chunked = (tarball: Buffer, size: number): TarIndex => {
    const indexer = new TarIndexer(() => false);
    for (let pos = 0; pos < tarball.length; pos += size) indexer.push(tarball.subarray(pos, pos + size));
    return indexer.finish();
  };
  const base = await makeTarball(files);
  const oneByte = Buffer.alloc(40_000, 1);
  oneByte[39_999] = 2;
  const changed = await makeTarball({ ...files, 'tree/a.bin': oneByte });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tar-digest-'));
  await mkdir(path.join(dir, 'tree/sub'), { recursive: true });
  await writeFile(path.join(dir, 'tree/a.bin'), files['tree/a.bin']);
  await writeFile(path.join(dir, 'tree/sub/b.txt'), 'b');
  await chmod(path.join(dir, 'tree/sub/b.txt'), 0o755);
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ cwd: dir, portable: true }, ['.'])) chunks.push(chunk as Buffer);
  await rm(dir, { recursive: true, force: true });
  const modeChanged = Buffer.concat(chunks);
  assert.equal(sum(chunked(base, 333)), sum(indexTarBuffer(base)), 'the chunking does not matter');
  assert.notEqual(sum(chunked(changed, 333)), sum(indexTarBuffer(base)), 'one byte');
  assert.notEqual(sum(chunked(modeChanged, 4096)), sum(indexTarBuffer(base)), 'a mode');
  assert.equal(chunked(base, 100).entries.get('tree/a.bin')?.parts, undefined, 'bodies kept only when asked');
});
