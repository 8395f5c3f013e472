// `docker run` flags whose effect inside the container the config.json comparison with dockerd
// (docs/oci-config-vs-dockerd.md) brought in line: devices, privileged /dev and cgroup mount,
// supplementary groups, read-only /etc files with --read-only, low ports for a non-root user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, useBerthdWithBusybox, type Berthd } from './harness.js';

const skip = requires('root', 'docker', 'overlay');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

const runOut = async (args: string[]): Promise<string> => await dockerOk(daemon, ['run', '--rm', '--network', 'none', ...args]);

test('--device and --device-cgroup-rule reach the container; a missing device is refused by name', { skip }, async () => {
  // the host node's owner, as dockerd's (the default /dev/null stays root's)
  const host = await stat('/dev/null');
  assert.match(await runOut(['--device', '/dev/null:/dev/mynull', 'busybox', 'ls', '-ln', '/dev/mynull']), new RegExp(`^crw-rw-rw-\\s+1 ${host.uid}\\s+${host.gid}\\s+1,\\s+3 `));
  const rules = await runOut(['--device-cgroup-rule', 'c 42:7 rw', 'busybox', 'sh', '-c',
    'cat /sys/fs/cgroup/devices/devices.list 2>/dev/null || echo no-v1-devices']);
  assert.ok(rules === 'no-v1-devices' || rules.split('\n').includes('c 42:7 rw'), rules);
  const missing = await docker(daemon, ['run', '--rm', '--network', 'none', '--device', '/dev/berth-no-such', 'busybox', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/berth-no-such": no such file or directory/);
});

test('a --device node keeps its host owner and mode in the container, as runc chowns it (dockerd 20.10: 1234 5678 crw--w----)', { skip }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-dev-${daemon.token}-`));
  try {
    const node = path.join(dir, 'owned-null');
    await promisify(execFile)('mknod', [node, 'c', '1', '3']);
    await chown(node, 1234, 5678);
    await chmod(node, 0o620);
    assert.match(await runOut(['--device', `${node}:/dev/owned`, 'busybox', 'ls', '-ln', '/dev/owned']), /^crw--w----\s+1 1234\s+5678\s+1,\s+3 /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--privileged sees the host devices and a writable cgroup mount', { skip }, async () => {
  const hostDevices = (await readdir('/dev', { withFileTypes: true })).filter((e) => e.isBlockDevice()).map((e) => e.name);
  const out = await runOut(['--privileged', 'busybox', 'sh', '-c', 'ls /dev; grep " /sys/fs/cgroup" /proc/mounts | head -1']);
  for (const name of hostDevices) assert.ok(out.split('\n').includes(name), `host block device ${name} in a privileged /dev`);
  assert.match(out.split('\n').at(-1) ?? '', / rw,/);
  const plain = await runOut(['busybox', 'sh', '-c', 'grep " /sys/fs/cgroup" /proc/mounts | head -1']);
  assert.match(plain, / ro,/);
});

test('supplementary groups as under dockerd: the primary group, memberships only without a named group, --group-add', { skip }, async () => {
  const groups = async (args: string[]): Promise<string> => (await runOut([...args, 'busybox', 'grep', 'Groups', '/proc/self/status'])).replace(/\s+/g, ' ').trim();
  assert.equal(await groups([]), 'Groups: 0');
  assert.equal(await groups(['-u', '1000']), 'Groups: 1000');
  assert.equal(await groups(['-u', '1000:0', '--group-add', '65534']), 'Groups: 0 65534');
});

test('--read-only makes /etc/hosts read-only too; a non-root user binds a low port in its own network namespace', { skip }, async () => {
  assert.equal(await runOut(['--read-only', 'busybox', 'sh', '-c', 'echo x >> /etc/hosts 2>/dev/null; echo $?']), '1');
  assert.equal(await runOut(['busybox', 'sh', '-c', 'echo x >> /etc/hosts; echo $?']), '0');
  assert.equal(await runOut(['-u', '1000', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']), '0');
  const bound = await runOut(['-u', '1000', 'busybox', 'sh', '-c', 'nc -l -p 80 & sleep 0.3; kill $! && echo bound']);
  assert.equal(bound, 'bound');
});
