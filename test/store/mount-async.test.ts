// mountAsync (src/sys/fs-native.ts): the overlay mount of a container root made on koffi's
// worker thread; a failure is reported like the synchronous mount, errno and path named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { MNT_DETACH, SyscallError, mountAsync, umount } from '../../src/sys/fs-native.js';
import { mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';

test('mountAsync mounts an overlay off the event loop, and names the errno and target of a failure', { skip: requires('root', 'overlay') }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-mount-async-'));
  const merged = path.join(root, 'merged');
  try {
    for (const sub of ['lower', 'upper', 'work', 'merged']) await mkdir(path.join(root, sub));
    await writeFile(path.join(root, 'lower', 'f'), 'from the lower layer');
    const data = `lowerdir=${path.join(root, 'lower')},upperdir=${path.join(root, 'upper')},workdir=${path.join(root, 'work')}`;
    await mountAsync('berth-mount-async-test', merged, 'overlay', 0, data);
    assert.equal(await readFile(path.join(merged, 'f'), 'utf8'), 'from the lower layer');
    assert.deepEqual(await mountPointsUnder(root + path.sep), [merged]);
    umount(merged, MNT_DETACH);

    const missing = data.replace(path.join(root, 'lower'), path.join(root, 'no-such-lower'));
    await assert.rejects(mountAsync('berth-mount-async-test', merged, 'overlay', 0, missing), (err: unknown) => {
      assert.ok(err instanceof SyscallError);
      assert.equal(err.errno, 'ENOENT');
      assert.match(err.message, new RegExp(`mount ${merged}: ENOENT`));
      return true;
    });
    assert.deepEqual(await mountPointsUnder(root + path.sep), [], 'nothing left mounted');
  } finally {
    for (const target of await mountPointsUnder(root + path.sep)) umount(target, MNT_DETACH);
    await rm(root, { recursive: true, force: true });
  }
});
