// The short cuts of `docker run --rm`: an --rm container leaves nothing behind (record and
// bundle when its wait?condition=removed answers; root and mount released right after); a created container keeps the root its create mounted until it starts (and
// gives it back when the daemon stops); an --rm container whose run ended with a kill -9 of
// berthd is removed at the next start, as dockerd does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { retireBerthd, dockerOk, importBusybox, startBerthd, stopBerthd, type Berthd } from '../api/harness.js';

async function mountsOf(d: Berthd, id = ''): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(d.dir) && m.includes(id));
}

/** roots are mounted and released beside the requests that cause them: poll briefly */
async function eventually<T>(probe: () => Promise<T>, expected: T, message: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  let got = await probe();
  while (JSON.stringify(got) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    got = await probe();
  }
  assert.deepEqual(got, expected, message);
}

const containerDirs = async (dir: string): Promise<string[]> =>
  (await readdir(dir).catch(() => [] as string[])).filter((e) => /^[0-9a-f]{64}$/.test(e));

test('--rm leaves nothing; created roots stay mounted until start or daemon stop; kill -9 then restart removes --rm containers',
  { skip: requires('root', 'docker', 'overlay'), timeout: 180_000 }, async () => {
    let d = await startBerthd();
    let leaks: string[] = [];
    try {
      await importBusybox(d);
      assert.equal(await dockerOk(d, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi']), 'hi');
      assert.equal(await dockerOk(d, ['ps', '-aq']), '');
      assert.deepEqual(await containerDirs(path.join(d.dataRoot, 'containers')), [], 'no record left');
      assert.deepEqual(await containerDirs(path.join(d.execRoot, 'containers')), [], 'no bundle left');
      await eventually(() => containerDirs(path.join(d.dataRoot, 'image/snapshots/overlay/active')), [], 'no root left');
      await eventually(() => mountsOf(d), [], 'no mount left');

      const created = await dockerOk(d, ['create', '--name', 'later', 'busybox', 'sh', '-c', 'exit 3']);
      // create answers once its record is saved and mounts the root meanwhile (as dockerd mounts at start)
      await eventually(async () => (await mountsOf(d, created)).length, 1, 'the root create mounted is kept for the start');
      const started = await dockerOk(d, ['start', '-a', 'later']).then(() => 0, () => 3);
      assert.equal(started, 3);
      assert.equal(await dockerOk(d, ['inspect', '-f', '{{.State.ExitCode}}', 'later']), '3');
      await eventually(() => mountsOf(d, created), [], 'unmounted when its run ended');

      const idle = await dockerOk(d, ['create', '--name', 'idle', 'busybox', 'true']);
      const gone = await dockerOk(d, ['run', '-d', '--rm', '--name', 'gone', 'busybox', 'sleep', '300']);
      await stopBerthd(d, 'SIGKILL');
      d = await startBerthd({ dir: d.dir, token: d.token });
      const names = (await dockerOk(d, ['ps', '-a', '--format', '{{.Names}}'])).split('\n').sort();
      assert.deepEqual(names, ['idle', 'later'], 'the --rm container is removed at the restart');
      assert.ok(!(await containerDirs(path.join(d.dataRoot, 'containers'))).includes(gone));

      await dockerOk(d, ['start', 'idle']);
      await dockerOk(d, ['wait', 'idle']);
      await dockerOk(d, ['create', '--name', 'idle2', 'busybox', 'true']);
      await eventually(async () => (await mountsOf(d, idle)).length, 0, 'unmounted when its run ended');
      await stopBerthd(d, 'SIGTERM');
      assert.deepEqual(await mountsOf(d), [], 'a clean stop unmounts the roots of created containers');
      d = await startBerthd({ dir: d.dir, token: d.token });
      await dockerOk(d, ['rm', 'later', 'idle', 'idle2']);
    } finally {
      leaks = await retireBerthd(d);
    }
    assert.deepEqual(leaks, []);
  });
