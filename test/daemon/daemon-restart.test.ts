// kill -9 of berthd, then a restart: records load, containers whose process died are
// marked exited, `always` containers come back, nothing is duplicated or leaked. Then a
// clean SIGTERM stops running containers with their stop signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../support/requirements.js';
import { retireBerthd, docker, dockerOk, importBusybox, startBerthd, stopBerthd } from '../api/harness.js';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('berthd survives kill -9: state reloads, restart policies apply, nothing leaks', { skip: requires('root', 'docker', 'overlay'), timeout: 300_000 }, async () => {
  let d = await startBerthd();
  let leaks: string[] = [];
  try {
    await importBusybox(d);
    await dockerOk(d, ['run', '-d', '--name', 'plain', 'busybox', 'sleep', '300']);
    await dockerOk(d, ['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '300']);
    await dockerOk(d, ['create', '--name', 'created', 'busybox', 'true']);
    const pid = Number(await dockerOk(d, ['inspect', '-f', '{{.State.Pid}}', 'plain']));
    assert.ok(pid > 0);

    await stopBerthd(d, 'SIGKILL');
    // the containers' processes die with their monitor (no live-restore), as after a reboot
    d = await startBerthd({ dir: d.dir, token: d.token });
    // the daemon restarts `always` containers in the background after it listens
    await waitFor(async () => (await dockerOk(d, ['inspect', '-f', '{{.State.Status}}', 'always'])) === 'running');
    const states = await dockerOk(d, ['ps', '-a', '--format', '{{.Names}} {{.State}}']);
    const byName = Object.fromEntries(states.split('\n').map((l) => l.split(' ') as [string, string]));
    assert.deepEqual(Object.keys(byName).sort(), ['always', 'created', 'plain'], 'no container lost or duplicated');
    assert.equal(byName['plain'], 'exited');
    assert.equal(byName['always'], 'running');
    assert.equal(byName['created'], 'created');
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    assert.equal(alive, false, 'the old container process is gone');
    assert.equal(await dockerOk(d, ['exec', 'always', 'echo', 'back']), 'back');

    const started = Date.now();
    await stopBerthd(d, 'SIGTERM');
    assert.ok(Date.now() - started < 30_000);
    d = await startBerthd({ dir: d.dir, token: d.token });
    await waitFor(async () => (await dockerOk(d, ['inspect', '-f', '{{.State.Status}}', 'always'])) === 'running');
    await dockerOk(d, ['rm', '-f', 'plain', 'always', 'created']);
    assert.equal((await docker(d, ['ps', '-aq'])).stdout.trim(), '');
  } finally {
    leaks = await retireBerthd(d);
  }
  assert.deepEqual(leaks, []);
});
