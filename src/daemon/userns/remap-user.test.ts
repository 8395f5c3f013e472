import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureSubidEntry, findAccount, nextFreeStart, parseRemapSpec, resolveRemapUser } from './remap-user.js';
import { parseUsernsMode } from './mode.js';

test('--userns values: host, remap/private/auto, auto:size=N, keep-id; anything else names the value', () => {
  assert.equal(parseUsernsMode(''), undefined);
  assert.deepEqual(parseUsernsMode('host'), { kind: 'host' });
  for (const v of ['remap', 'private', 'auto']) assert.deepEqual(parseUsernsMode(v), { kind: 'remap' });
  assert.deepEqual(parseUsernsMode('auto:size=4096'), { kind: 'remap', size: 4096 });
  assert.deepEqual(parseUsernsMode('keep-id'), { kind: 'keep-id' });
  assert.throws(() => parseUsernsMode('auto:size=10'), /size must be between 1024/);
  assert.throws(() => parseUsernsMode('container:x'), /invalid USER mode: container:x/);
});

test('--userns-remap specs: default is berthremap, USER[:GROUP], garbage refused', () => {
  assert.deepEqual(parseRemapSpec('default'), { user: 'berthremap', group: 'berthremap', isDefault: true });
  assert.deepEqual(parseRemapSpec('alice:staff'), { user: 'alice', group: 'staff', isDefault: false });
  assert.deepEqual(parseRemapSpec('1001'), { user: '1001', group: undefined, isDefault: false });
  assert.throws(() => parseRemapSpec('a:b:c'), /invalid --userns-remap "a:b:c"/);
  assert.throws(() => parseRemapSpec('../x'), /invalid --userns-remap/);
});

test('accounts are found by name or number', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1002::/home/alice:/bin/sh\n';
  assert.deepEqual(findAccount(passwd, 'alice'), { name: 'alice', id: 1001, gid: 1002 });
  assert.deepEqual(findAccount(passwd, '1001'), { name: 'alice', id: 1001, gid: 1002 });
  assert.equal(findAccount(passwd, 'bob'), undefined);
});

test('the default range starts after every existing one, aligned; an existing entry is kept', async () => {
  assert.equal(nextFreeStart('', 'f'), 131072);
  assert.equal(nextFreeStart('a:100000:65536\nb:165536:65536\n', 'f'), 262144);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-remap-'));
  try {
    const subuid = path.join(dir, 'subuid');
    await writeFile(subuid, 'alice:100000:65536');
    await ensureSubidEntry(subuid, 'berthremap', 999, 65536 * 4);
    assert.equal(await readFile(subuid, 'utf8'), 'alice:100000:65536\nberthremap:196608:262144\n');
    await ensureSubidEntry(subuid, 'berthremap', 999, 65536 * 4);
    assert.equal((await readFile(subuid, 'utf8')).split('\n').filter(Boolean).length, 2, 'not added twice');
    await writeFile(path.join(dir, 'passwd'), 'alice:x:1001:1002::/:/bin/sh\n');
    await writeFile(path.join(dir, 'group'), 'alice:x:1002:\nstaff:x:50:\n');
    const files = { passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group'), subuid, subgid: subuid };
    assert.deepEqual(await resolveRemapUser('alice', files), { name: 'alice', uid: 1001, group: 'alice', gid: 1002 });
    assert.deepEqual(await resolveRemapUser('alice:staff', files), { name: 'alice', uid: 1001, group: 'staff', gid: 50 });
    await assert.rejects(resolveRemapUser('bob', files), /user "bob" does not exist/);
    await assert.rejects(resolveRemapUser('alice:nogroup', files), /group "nogroup" does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
