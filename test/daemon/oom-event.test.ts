// The `oom` event comes when the kernel's OOM killer acts, as with dockerd: here a child of
// the container's shell is killed and the container keeps running, so an event tied to the
// container's exit would never come. At its exit the state still says OOMKilled, and the
// event is not sent a second time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requires } from '../support/requirements.js';
import { retireBerthd, dockerOk, importBusybox, startBerthd } from '../api/harness.js';

test('oom event at the moment of the kill, once, with OOMKilled recorded at the exit', { skip: requires('root', 'docker', 'overlay'), timeout: 120_000 }, async () => {
  const d = await startBerthd();
  let leaks: string[] = [];
  const events = spawn('docker', ['events', '--filter', 'type=container', '--filter', 'event=oom', '--filter', 'event=die', '--format', '{{.Action}} {{.Actor.ID}}'],
    { env: d.env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await importBusybox(d);
    const seen: string[] = [];
    let onLine: ((line: string) => void) | undefined;
    createInterface({ input: events.stdout }).on('line', (line) => { seen.push(line); onLine?.(line); });
    const firstOom = new Promise<string>((resolve) => { onLine = (line) => { if (line.startsWith('oom ')) resolve(line); }; });
    // tail buffers /dev/zero's endless line until the limit; the shell outlives it
    const id = await dockerOk(d, ['run', '-d', '--network', 'none', '--memory', '16m', '--memory-swap', '16m', 'busybox',
      'sh', '-c', 'tail /dev/zero; sleep 300']);
    assert.equal(await firstOom, `oom ${id}`);
    assert.equal(await dockerOk(d, ['inspect', '-f', '{{.State.Running}}', id]), 'true', 'the container still runs: the event did not wait for its exit');

    const died = new Promise<void>((resolve) => { onLine = (line) => { if (line === `die ${id}`) resolve(); }; });
    await dockerOk(d, ['kill', id]);
    await died;
    assert.equal(await dockerOk(d, ['inspect', '-f', '{{.State.OOMKilled}}', id]), 'true');
    assert.deepEqual(seen.filter((l) => l.startsWith('oom ')), [`oom ${id}`], 'one oom event, not another at the exit');
    await dockerOk(d, ['rm', id]);
  } finally {
    events.kill();
    leaks = await retireBerthd(d);
  }
  assert.deepEqual(leaks, []);
});
