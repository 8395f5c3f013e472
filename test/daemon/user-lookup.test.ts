// `-u name` is resolved in the container's own /etc/passwd and /etc/group. berthd keeps each
// image's files from the first start of a container made of it; a root that docker cp wrote to
// is read anew, so a user added there is found (as dockerd finds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, importBusybox, retireBerthd, startBerthd } from '../api/harness.js';

test('users are looked up in the image, in a root docker cp changed, and in an image committed after a run added one',
  { skip: requires('root', 'docker', 'overlay'), timeout: 120_000 }, async () => {
    const d = await startBerthd();
    const files = await mkdtemp(path.join(os.tmpdir(), 'berth-user-lookup-'));
    let leaks: string[] = [];
    try {
      await importBusybox(d);
      // the image's files, kept from this first start
      assert.equal(await dockerOk(d, ['run', '--rm', '--network', 'none', '-u', 'nobody', 'busybox', 'id', '-u']), '65534');
      const unknown = await docker(d, ['run', '--rm', '--network', 'none', '-u', 'berthapp', 'busybox', 'true']);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /unable to find user berthapp/);

      // docker cp puts a passwd with the user into a created container: its start finds it
      const passwd = path.join(files, 'passwd');
      await writeFile(passwd, 'root:x:0:0:root:/root:/bin/sh\nberthapp:x:4321:4322::/home/app:/bin/sh\n');
      const copied = await dockerOk(d, ['create', '--network', 'none', '-u', 'berthapp', 'busybox', 'id']);
      await dockerOk(d, ['cp', passwd, `${copied}:/etc/passwd`]);
      await dockerOk(d, ['start', copied]);
      assert.equal(await dockerOk(d, ['wait', copied]), '0');
      assert.match(await dockerOk(d, ['logs', copied]), /uid=4321\(berthapp\) gid=4322/);

      // a run that adds the user, committed: a new image, whose containers see the user
      const ran = await dockerOk(d, ['create', '--network', 'none', '--name', 'adds-user', 'busybox', 'sh', '-c',
        'echo "later:x:777:777::/:/bin/sh" >> /etc/passwd']);
      await dockerOk(d, ['start', '-a', ran]);
      await dockerOk(d, ['commit', ran, 'berth-user-lookup:added']);
      assert.equal(await dockerOk(d, ['run', '--rm', '--network', 'none', '-u', 'later', 'berth-user-lookup:added', 'id', '-u']), '777');
      // and busybox's kept copy is still busybox's own
      assert.notEqual((await docker(d, ['run', '--rm', '--network', 'none', '-u', 'later', 'busybox', 'true'])).code, 0);
      await dockerOk(d, ['rm', '-f', copied, ran]);
      await dockerOk(d, ['rmi', 'berth-user-lookup:added']);
    } finally {
      leaks = await retireBerthd(d);
      await rm(files, { recursive: true, force: true });
    }
    assert.deepEqual(leaks, []);
  });
