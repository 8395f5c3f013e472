// docker rm -f of running containers (plain, with restart policies, several at once, after a
// restart) and a daemon stop with containers running must leave no netns bind mount or file
// behind. Regression: rm -f used to drop the record before the exit handler ran, so the
// handler found no record and never released the network sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { cleanupBerthd, dockerOk, findLeaks, importBusybox, removeDir, startBerthd, stopBerthd, type Berthd } from '../api/harness.js';

/** netns bind mounts and files of this daemon still present */
async function netnsLeft(d: Berthd): Promise<string[]> {
  const dir = path.join(d.execRoot, 'netns');
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')
    .map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
  const files = (await readdir(dir).catch(() => [] as string[])).map((f) => path.join(dir, f));
  return [...mounts.map((m) => `mount: ${m}`), ...files.map((f) => `file: ${f}`)];
}

test('rm -f of running containers and a daemon stop release every netns', { skip: requires('root', 'docker', 'overlay'), timeout: 300_000 }, async () => {
  const d = await startBerthd();
  let leaks: string[] = [];
  try {
    await importBusybox(d);
    await dockerOk(d, ['run', '-d', '--name', 'plain', 'busybox', 'sleep', '100']);
    await dockerOk(d, ['rm', '-f', 'plain']);
    assert.deepEqual(await netnsLeft(d), [], 'rm -f of a running container');

    await dockerOk(d, ['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '100']);
    await dockerOk(d, ['run', '-d', '--name', 'onfail', '--restart', 'on-failure', 'busybox', 'sleep', '100']);
    await dockerOk(d, ['run', '-d', '--name', 'other', 'busybox', 'sleep', '100']);
    await dockerOk(d, ['rm', '-f', 'always', 'onfail', 'other']);
    assert.deepEqual(await netnsLeft(d), [], 'rm -f of several running containers, with restart policies');

    await dockerOk(d, ['run', '-d', '--name', 'life', 'busybox', 'sh', '-c', 'echo hi; sleep 300']);
    await dockerOk(d, ['pause', 'life']);
    await dockerOk(d, ['unpause', 'life']);
    await dockerOk(d, ['update', '-m', '64m', '--memory-swap', '-1', 'life']);
    await dockerOk(d, ['rename', 'life', 'life-2']);
    await dockerOk(d, ['restart', '-t', '1', 'life-2']);
    await dockerOk(d, ['kill', '-s', 'KILL', 'life-2']);
    await dockerOk(d, ['wait', 'life-2']);
    await dockerOk(d, ['rm', '-f', 'life-2']);
    assert.deepEqual(await netnsLeft(d), [], 'restart, kill, wait and rm -f');

    await dockerOk(d, ['run', '-d', '--name', 'kept1', 'busybox', 'sleep', '100']);
    await dockerOk(d, ['run', '-d', '--name', 'kept2', '--restart', 'always', 'busybox', 'sleep', '100']);
    await stopBerthd(d, 'SIGTERM');
    assert.deepEqual(await netnsLeft(d), [], 'daemon stop with running containers');
  } finally {
    await stopBerthd(d, 'SIGKILL');
    await cleanupBerthd(d);
    leaks = await findLeaks(d);
    await removeDir(d);
  }
  assert.deepEqual(leaks, []);
});
