import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, symlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveInRoot } from './root-path.js';

test('symlinks and .. never leave the root', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-root-'));
  try {
    await mkdir(path.join(root, 'etc'));
    await symlink('/etc/shadow', path.join(root, 'etc/evil'));
    await symlink('../../../../tmp', path.join(root, 'etc/up'));
    await symlink('etc', path.join(root, 'conf'));
    assert.equal(await resolveInRoot(root, '/etc/evil'), path.join(root, 'etc/shadow'));
    assert.equal(await resolveInRoot(root, '/etc/up/x'), path.join(root, 'tmp/x'));
    assert.equal(await resolveInRoot(root, '../../../etc/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await resolveInRoot(root, '/conf/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await resolveInRoot(root, '/etc/evil', false), path.join(root, 'etc/evil'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
