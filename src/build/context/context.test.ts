import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { extractTarContext, readDockerfile } from './context.js';

async function makeTarball(dir: string, files: Record<string, string>): Promise<Buffer> {
  const src = path.join(dir, 'src');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(src, name)), { recursive: true });
    await writeFile(path.join(src, name), content);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ cwd: src, portable: true }, ['.'])) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** a stream that hands out the bytes in small pieces, as a socket does */
const trickle = (bytes: Buffer, size: number): Readable =>
  Readable.from((function* () { for (let pos = 0; pos < bytes.length; pos += size) yield bytes.subarray(pos, pos + size); })());

test('a streamed plain context is indexed on arrival and extracted only when asked', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-context-'));
  const tarball = await makeTarball(dir, { 'Dockerfile': 'FROM scratch\n', 'app/main.txt': 'x'.repeat(3000), '.dockerignore': '*.log\n' });
  const context = await extractTarContext(trickle(tarball, 100), 'Dockerfile', path.join(dir, 'scratch'));
  assert.ok(context.index?.exact);
  assert.equal((await readDockerfile(context)).content, 'FROM scratch\n');
  assert.ok(context.ignore.ignores('debug.log'));
  await assert.rejects(readFile(path.join(context.root, 'app/main.txt')), /ENOENT/, 'nothing written before materialize');
  await context.materialize();
  assert.equal(await readFile(path.join(context.root, 'app/main.txt'), 'utf8'), 'x'.repeat(3000));
  await context.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test('a gzip context and one bigger than the memory limit are extracted by tar at once', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-context-'));
  const tarball = await makeTarball(dir, { 'Dockerfile': 'FROM scratch\n', 'a.txt': 'a' });
  const gzipped = await extractTarContext(trickle(gzipSync(tarball), 3), 'Dockerfile', path.join(dir, 'scratch'));
  assert.equal(gzipped.index, undefined);
  assert.equal(await readFile(path.join(gzipped.root, 'a.txt'), 'utf8'), 'a');
  await gzipped.cleanup();
  const spilled = await extractTarContext(trickle(tarball, 512), 'Dockerfile', path.join(dir, 'scratch'), { memoryLimit: 1024 });
  assert.equal(spilled.index, undefined);
  assert.equal((await readDockerfile(spilled)).content, 'FROM scratch\n');
  assert.equal(await readFile(path.join(spilled.root, 'a.txt'), 'utf8'), 'a');
  await spilled.cleanup();
  await assert.rejects(extractTarContext(Buffer.from('not a tarball at all'), 'Dockerfile', path.join(dir, 'scratch')), /cannot read the build context tarball/);
  await rm(dir, { recursive: true, force: true });
});

test('the index keeps only the bytes the context reads; other files come from disk', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-context-'));
  const tarball = await makeTarball(dir, { 'Dockerfile': 'FROM scratch\n', 'other/Dockerfile.dev': 'FROM busybox\n', 'big.txt': 'y'.repeat(5000) });
  const context = await extractTarContext(trickle(tarball, 700), 'Dockerfile', path.join(dir, 'scratch'));
  assert.ok(context.index?.exact);
  assert.ok(context.index.entries.get('Dockerfile')?.parts, 'the Dockerfile is kept');
  assert.equal(context.index.entries.get('big.txt')?.parts, undefined, 'other files are not');
  assert.ok(context.index.entries.get('big.txt')?.digest, 'but hashed');
  assert.equal((await readDockerfile(context)).content, 'FROM scratch\n');
  // a file the index did not keep is read after extraction
  assert.equal((await readDockerfile(context, 'other/Dockerfile.dev')).content, 'FROM busybox\n');
  assert.equal(await readFile(path.join(context.root, 'big.txt'), 'utf8'), 'y'.repeat(5000));
  await context.cleanup();
  await rm(dir, { recursive: true, force: true });
});
