import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';
import { resolveInRoot } from './root-path.js';
import { openDirectoryContext, readDockerfile } from './context.js';

test('docker pattern rules: *, **, ?, parent dirs, ! exceptions, last match wins, cleaning', () => {
  const m = new IgnoreMatcher(parseDockerignore([
    '# comment', '', '*/temp*', '*/*/temp*', 'temp?', '**/*.log', '!keep.log', '/build/', './dist/../out', 'docs', '!docs/README.md',
  ].join('\n')));
  assert.ok(m.ignores('somedir/temporary.txt'));
  assert.ok(m.ignores('somedir/subdir/temporary.txt'));
  assert.ok(!m.ignores('temporary.txt'));
  assert.ok(m.ignores('tempa'));
  assert.ok(!m.ignores('tempab'));
  assert.ok(m.ignores('a/b/c/x.log'));
  assert.ok(m.ignores('x.log'));
  assert.ok(!m.ignores('keep.log'));
  assert.ok(m.ignores('build/output/bin'));
  assert.ok(m.ignores('out'));
  assert.ok(m.ignores('docs/guide.md'));
  assert.ok(!m.ignores('docs/README.md'));
  assert.ok(!m.ignores('src/main.ts'));
  assert.throws(() => new IgnoreMatcher(['!']), /illegal exclusion pattern/);
});

test('resolveInRoot keeps .. and absolute symlinks inside the root', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-rootpath-'));
  await mkdir(path.join(root, 'a'));
  await symlink('/etc', path.join(root, 'a/abs'));
  await symlink('../../../..', path.join(root, 'a/up'));
  await symlink('loop2', path.join(root, 'loop1'));
  await symlink('loop1', path.join(root, 'loop2'));
  assert.equal(await resolveInRoot(root, '/a/abs/passwd'), path.join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, 'a/up/etc'), path.join(root, 'etc'));
  assert.equal(await resolveInRoot(root, '../../x'), path.join(root, 'x'));
  assert.equal(await resolveInRoot(root, 'a/abs', false), path.join(root, 'a/abs'));
  await assert.rejects(resolveInRoot(root, 'loop1/x'), /too many levels of symbolic links/);
  await rm(root, { recursive: true, force: true });
});

test('context: Dockerfile.dockerignore wins; the Dockerfile is read even when ignored', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ctx-'));
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  await writeFile(path.join(dir, '.dockerignore'), 'Dockerfile\n');
  await writeFile(path.join(dir, 'custom.Dockerfile'), 'FROM busybox\n');
  await writeFile(path.join(dir, 'custom.Dockerfile.dockerignore'), '*.txt\n');
  const plain = await openDirectoryContext(dir);
  assert.ok(plain.ignore.ignores('Dockerfile'));
  assert.equal((await readDockerfile(plain)).content, 'FROM scratch\n');
  const custom = await openDirectoryContext(dir, 'custom.Dockerfile');
  assert.ok(custom.ignore.ignores('a.txt'));
  assert.ok(!custom.ignore.ignores('Dockerfile'));
  await assert.rejects(readDockerfile(plain, 'nope/Dockerfile'), /cannot find the dockerfile nope\/Dockerfile/);
  await rm(dir, { recursive: true, force: true });
});

test('tar contexts: files hashed on arrival, hostile members refused', async () => {
  const { extractTarContext } = await import('./context.js');
  const { entryBody } = await import('./tar-digest.js');
  const tar = await import('tar');
  const { createHash } = await import('node:crypto');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tarctx-'));
  await mkdir(path.join(dir, 'src/sub'), { recursive: true });
  await writeFile(path.join(dir, 'src/sub/f.txt'), 'content');
  await writeFile(path.join(dir, 'src/Dockerfile'), 'FROM scratch\n');
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ cwd: path.join(dir, 'src'), portable: true }, ['.'])) chunks.push(chunk as Buffer);
  const context = await extractTarContext(Buffer.concat(chunks), 'Dockerfile', path.join(dir, 'scratch'));
  assert.ok(context.index?.exact, 'a plain tarball is indexed exactly');
  const dockerfile = context.index.entries.get('Dockerfile');
  assert.equal(dockerfile && entryBody(dockerfile)?.toString(), 'FROM scratch\n');
  await context.materialize();
  const { stat: statFile } = await import('node:fs/promises');
  const info = await statFile(path.join(context.root, 'sub/f.txt'));
  assert.equal(context.knownDigest?.('sub/f.txt', info.size, info.mtimeMs), createHash('sha256').update('content').digest('hex'));
  assert.equal(context.knownDigest?.('sub/f.txt', info.size + 1, info.mtimeMs), undefined);
  await context.cleanup();
  // a member named ../escape
  const header = Buffer.alloc(512);
  header.write('../escape.txt', 0);
  header.write('0000644\0', 100); header.write('0000000\0', 108); header.write('0000000\0', 116);
  header.write('00000000001\0', 124); header.write('00000000000\0', 136); header.write('0', 156); header.write('ustar\x0000', 257);
  header.write('        ', 148);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const evil = Buffer.concat([header, Buffer.from('x'.padEnd(512, '\0')), Buffer.alloc(1024)]);
  await assert.rejects(extractTarContext(evil, 'Dockerfile', path.join(dir, 'scratch')), /cannot read the build context tarball: .*contains .\.\../);
  await rm(dir, { recursive: true, force: true });
});
