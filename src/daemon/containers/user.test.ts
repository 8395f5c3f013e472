import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageUserDatabases, lookupUser, resolveUser } from './user.js';

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

test('an image\'s user database is read from the first pristine root and kept; a written root is read anew', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-user-'));
  const other = await mkdtemp(path.join(os.tmpdir(), 'berth-user-'));
  try {
    await mkdir(path.join(root, 'etc'));
    await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n');
    const databases = new ImageUserDatabases();
    assert.equal(lookupUser(await databases.read('sha256:a', root, true), 'app').uid, 1000);
    // another root of the same image: the kept copy answers (this root has no passwd at all)
    assert.equal(lookupUser(await databases.read('sha256:a', other, true), 'app').home, '/app');
    // not pristine (a run or docker cp wrote to it): its own files count
    const written = await databases.read('sha256:a', other, false);
    assert.throws(() => lookupUser(written, 'app'), /unable to find user app/);
    await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:2000:2000::/app:/bin/sh\n');
    assert.equal(lookupUser(await databases.read('sha256:a', root, false), 'app').uid, 2000);
    // another image is read from its own root
    const otherImage = await databases.read('sha256:b', other, true);
    assert.throws(() => lookupUser(otherImage, 'app'), /unable to find user app/);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  }
});
