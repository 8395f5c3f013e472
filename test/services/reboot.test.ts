// Restart policies through a simulated host reboot: kill -9 berthd, kill every container
// process, unmount everything berth mounted, start berthd again. `always` and running
// `unless-stopped` containers come back with their volume data and published port; a
// hand-stopped `unless-stopped`, `no` and `on-failure` ones stay down. Nothing leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { dockerOk, startBerthd, useBerthdWithBusybox, stopBerthd, type Berthd } from '../api/harness.js';

const run = promisify(execFile);
const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

/** Every process in the daemon's cgroups gets SIGKILL, as at power-off. */
async function killContainerProcesses(cgroupParent: string): Promise<number> {
  let killed = 0;
  const base = path.join('/sys/fs/cgroup/pids', cgroupParent);
  for (const child of await readdir(base).catch(() => [] as string[])) {
    const procs = await readFile(path.join(base, child, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); killed++; } catch { /* already gone */ }
    }
  }
  return killed;
}

async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = mountinfo.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${dir}/`));
  for (const mount of mounts.reverse()) await run('umount', ['-l', mount]).catch(() => undefined);
}

async function echoOnce(port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(3000, () => { socket.destroy(); reject(new Error(`no answer on port ${port}`)); });
    socket.on('data', (c: Buffer) => { data += c.toString(); socket.end(); });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

async function state(name: string): Promise<string> {
  return await dockerOk(daemon, ['inspect', '--format', '{{.State.Status}}', name]);
}

/** berthd serves the API while it restarts containers in the background: wait for a state. */
async function waitForState(name: string, wanted: string): Promise<string> {
  let current = '';
  for (let i = 0; i < 120 && current !== wanted; i++) {
    current = await state(name);
    if (current !== wanted) await new Promise((r) => setTimeout(r, 250));
  }
  return current;
}

test('reboot simulation: always and unless-stopped come back with volumes and ports', { skip, timeout: 240_000 }, async () => {
  const t = daemon.token;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const vol = `berth-reboot-${t}`;
  // the server answers each connection with what is in its volume
  await dockerOk(daemon, ['run', '--rm', '-v', `${vol}:/d`, 'busybox', 'sh', '-c', 'echo persisted > /d/msg']);
  await dockerOk(daemon, ['run', '-d', '--name', `always-${t}`, '--restart', 'always', '-v', `${vol}:/d`, '-p', `${port}:8080`,
    'busybox', 'sh', '-c', 'while true; do nc -l -p 8080 < /d/msg; done']);
  await dockerOk(daemon, ['run', '-d', '--name', `unless-${t}`, '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
  await dockerOk(daemon, ['run', '-d', '--name', `stopped-${t}`, '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
  await dockerOk(daemon, ['stop', '-t', '1', `stopped-${t}`]);
  await dockerOk(daemon, ['run', '-d', '--name', `no-${t}`, 'busybox', 'sleep', '1000']);
  await dockerOk(daemon, ['run', '-d', '--name', `onfail-${t}`, '--restart', 'on-failure', 'busybox', 'sleep', '1000']);
  await new Promise((r) => setTimeout(r, 500));
  assert.match(await echoOnce(port), /persisted/);

  await stopBerthd(daemon, 'SIGKILL');
  assert.ok(await killContainerProcesses(daemon.cgroupParent) >= 4, 'container processes were running');
  await unmountUnder(daemon.dir);
  daemon = await startBerthd({ dir: daemon.dir, token: daemon.token });

  assert.equal(await waitForState(`always-${t}`, 'running'), 'running');
  assert.equal(await waitForState(`unless-${t}`, 'running'), 'running');
  // on-failure: a container killed by the reboot ended with 255, a failure, so it restarts as in docker
  assert.equal(await waitForState(`onfail-${t}`, 'running'), 'running');
  assert.equal(await state(`stopped-${t}`), 'exited');
  assert.equal(await state(`no-${t}`), 'exited');
  let answer = '';
  for (let i = 0; i < 20 && !answer.includes('persisted'); i++) {
    answer = await echoOnce(port).catch(() => '');
    if (!answer) await new Promise((r) => setTimeout(r, 250));
  }
  assert.match(answer, /persisted/);
});
