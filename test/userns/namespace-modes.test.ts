// docker's namespace sharing modes checked from inside containers through the docker CLI
// against a private berthd: the pid list, an IPC object (/dev/shm) and the IPC namespace,
// the hostname, the cgroup root; inspect shows each mode; a gone donor is refused up front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { requires } from '../support/requirements.js';
import { retireBerthd, docker, dockerOk, importBusybox, startBerthd, type Berthd } from '../api/harness.js';

const run = (d: Berthd, ...args: string[]): Promise<string> => dockerOk(d, ['run', '--rm', ...args]);

async function pidModes(d: Berthd): Promise<void> {
  // the test runner's own pid is visible only with --pid host
  assert.equal((await docker(d, ['run', '--rm', 'busybox', 'test', '-d', `/proc/${process.pid}`])).code, 1);
  await run(d, '--pid', 'host', 'busybox', 'test', '-d', `/proc/${process.pid}`);
  await dockerOk(d, ['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo berth-shm > /dev/shm/obj; exec sleep 300']);
  const pids = await run(d, '--pid', 'container:donor', 'busybox', 'ps', '-o', 'pid,args');
  assert.match(pids, /^\s*1\s+sleep 300$/m, 'the donor is pid 1 of the joined namespace');
  assert.equal(await dockerOk(d, ['inspect', '-f', '{{.HostConfig.PidMode}}', 'donor']), '');
}

async function ipcModes(d: Berthd): Promise<void> {
  const donorNs = await dockerOk(d, ['exec', 'donor', 'readlink', '/proc/self/ns/ipc']);
  const joined = await run(d, '--ipc', 'container:donor', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/ipc; cat /dev/shm/obj');
  assert.deepEqual(joined.split('\n'), [donorNs, 'berth-shm'], 'same IPC namespace and the same /dev/shm object');
  const privateNs = await run(d, 'busybox', 'readlink', '/proc/self/ns/ipc');
  assert.notEqual(privateNs, donorNs);
  assert.equal(await run(d, '--ipc', 'host', 'busybox', 'readlink', '/proc/self/ns/ipc'), readlinkSync('/proc/self/ns/ipc'));
  const none = await docker(d, ['run', '--rm', '--ipc', 'none', 'busybox', 'grep', '-c', ' /dev/shm ', '/proc/mounts']);
  assert.equal(none.stdout.trim(), '0', '--ipc none mounts no /dev/shm');
  const size = await run(d, '--shm-size', '8m', 'busybox', 'sh', '-c', "df -k /dev/shm | awk 'NR==2 {print $2}'");
  assert.equal(size, '8192');
  await dockerOk(d, ['run', '-d', '--name', 'private-ipc', 'busybox', 'sleep', '300']);
  const refused = await docker(d, ['run', '--rm', '--ipc', 'container:private-ipc', 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /not shareable/);
  assert.equal(await dockerOk(d, ['inspect', '-f', '{{.HostConfig.IpcMode}}', 'private-ipc']), 'private');
}

async function utsAndCgroupModes(d: Berthd): Promise<void> {
  assert.equal(await run(d, '--uts', 'host', 'busybox', 'hostname'), os.hostname());
  assert.notEqual(await run(d, 'busybox', 'hostname'), os.hostname());
  const conflict = await docker(d, ['run', '--rm', '--uts', 'host', '--hostname', 'x', 'busybox', 'true']);
  assert.match(conflict.stderr, /hostname and the UTS mode/);
  // a private cgroup namespace sees its own cgroup as the root; the host one sees berth's path
  const privateRoot = await run(d, '--cgroupns', 'private', 'busybox', 'grep', ':memory:', '/proc/self/cgroup');
  assert.match(privateRoot, /:memory:\/$/);
  const hostView = await run(d, '--cgroupns', 'host', 'busybox', 'grep', ':memory:', '/proc/self/cgroup');
  assert.ok(hostView.includes(d.cgroupParent), hostView);
  await dockerOk(d, ['create', '--name', 'modes', '--cgroupns', 'private', '--uts', 'host', '--pid', 'host', 'busybox', 'true']);
  assert.equal(await dockerOk(d, ['inspect', '-f', '{{.HostConfig.CgroupnsMode}} {{.HostConfig.UTSMode}} {{.HostConfig.PidMode}}', 'modes']), 'private host host');
}

async function goneDonor(d: Berthd): Promise<void> {
  const before = await dockerOk(d, ['ps', '-aq']);
  const gone = await docker(d, ['run', '--rm', '--pid', 'container:berth-gone', 'busybox', 'true']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /No such container: berth-gone/);
  assert.equal(await dockerOk(d, ['ps', '-aq']), before, 'nothing was created');
  await dockerOk(d, ['stop', '-t', '0', 'private-ipc']);
  const stopped = await docker(d, ['run', '--rm', '--pid', 'container:private-ipc', 'busybox', 'true']);
  assert.match(stopped.stderr, /non running container/);
}

test('pid, ipc, uts and cgroupns sharing modes seen from inside containers', { skip: requires('root', 'docker', 'overlay'), timeout: 300_000 }, async () => {
  const d = await startBerthd();
  let leaks: string[] = [];
  try {
    await importBusybox(d);
    await pidModes(d);
    await ipcModes(d);
    await utsAndCgroupModes(d);
    await goneDonor(d);
    await dockerOk(d, ['rm', '-f', 'donor', 'private-ipc', 'modes']);
  } finally {
    leaks = await retireBerthd(d);
  }
  assert.deepEqual(leaks, []);
});
