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
