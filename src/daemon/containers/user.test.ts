import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveUser } from './user.js';

test('users resolve by name or number with their groups', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-user-'));
  try {
    await mkdir(path.join(root, 'etc'));
    await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n');
    await writeFile(path.join(root, 'etc/group'), 'root:x:0:\nuser:x:1000:\nwheel:x:10:user\n');
    // the groups dockerd 20.10 gives (checked with /proc/self/status): the primary one, memberships unless a group is named
    assert.deepEqual(await resolveUser(root, 'user'), { uid: 1000, gid: 1000, additionalGids: [1000, 10], home: '/home/user' });
    assert.deepEqual(await resolveUser(root, '1000:wheel'), { uid: 1000, gid: 10, additionalGids: [10], home: '/home/user' });
    assert.deepEqual(await resolveUser(root, 'user:0'), { uid: 1000, gid: 0, additionalGids: [0], home: '/home/user' });
    assert.deepEqual(await resolveUser(root, '4242:77'), { uid: 4242, gid: 77, additionalGids: [77], home: '/' });
    assert.deepEqual((await resolveUser(root, '', ['wheel'])).additionalGids, [0, 10]);
    assert.deepEqual((await resolveUser(root, '1000:0', ['65534'])).additionalGids, [0, 65534]);
    await assert.rejects(resolveUser(root, 'nobody'), /unable to find user nobody/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
