// cgroup v1 for real: limits written, a process moved in, pids.max stopping forks,
// freeze/thaw, kill, destroy and sweep leaving nothing behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { after, test } from 'node:test';
import { isBerthError } from '../../src/errors/berth-error.js';
import { type CgroupManager, detectCgroupManager, sweepCgroups } from '../../src/runtime/cgroups/manager.js';
import { parseCgroupMounts } from '../../src/runtime/cgroups/paths.js';
import { requires } from '../support/requirements.js';

const token = `berth-test-${randomBytes(4).toString('hex')}`;
const isV1 = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'), '/sys/fs/cgroup')
  .some((m) => m.fsType === 'cgroup' && m.controllers.includes('pids'));
const skip = requires('root') || (isV1 ? false : 'requires cgroup v1 hierarchies at /sys/fs/cgroup');

const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A busybox shell that waits for one line on stdin, then runs `script`. */
function startWaitingShell(script: string): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const child = spawn('/bin/busybox', ['sh', '-c', `read go; ${script}`]);
  children.push(child);
  let text = '';
  child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { text += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const own = readFileSync('/proc/self/cgroup', 'utf8');
  for (const controller of await readdir('/sys/fs/cgroup')) {
    const base = `/sys/fs/cgroup/${controller}`;
    const ownPath = own.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller))?.split(':')[2] ?? '/';
    for (const dir of [base, `${base}${ownPath}`]) {
      const entries = await readdir(dir).catch(() => [] as string[]);
      found.push(...entries.filter((e) => e.startsWith(token)).map((e) => `${dir}/${e}`));
    }
  }
  return found;
}

function read(dir: string | undefined, file: string): string {
  assert.ok(dir, `no directory for ${file}`);
  return readFileSync(`${dir}/${file}`, 'utf8').trim();
}

test('v1: limits are written, pids.max stops forks, freeze/thaw, kill and destroy leave nothing', { skip }, async () => {
  const manager: CgroupManager = await detectCgroupManager();
  assert.equal(manager.version, 1);
  const handle = await manager.create(`${token}/ctr`, {
    pids: { limit: 4 },
    memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
  });
  const dirs = handle.directories;
  try {
    assert.equal(read(dirs.pids, 'pids.max'), '4');
    assert.equal(read(dirs.memory, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(read(dirs.memory, 'memory.soft_limit_in_bytes'), String(32 * 1024 * 1024));
    assert.equal(read(dirs.cpu, 'cpu.shares'), '512');
    assert.equal(read(dirs.cpu, 'cpu.cfs_quota_us'), '50000');
    assert.equal(read(dirs.cpuset, 'cpuset.cpus'), '0');
    assert.equal(read(dirs.devices, 'devices.list'), 'c 1:3 rwm');
    // relative paths land below our own cgroup per hierarchy, as runc puts them
    assert.match(dirs.pids ?? '', new RegExp(`/${token}/ctr$`));

    // The shell counts as one of the 4: three sleeps start, the fourth fork fails and
    // busybox sh gives up with "can't fork", leaving the three sleeps behind.
    const shell = startWaitingShell('for i in 1 2 3 4 5 6; do sleep 30 & done; echo spawned; wait');
    await handle.addProcess(shell.child.pid ?? -1);
    assert.deepEqual(await handle.pids(), [shell.child.pid]);
    shell.child.stdin.write('go\n');
    await waitFor(() => /can't fork|Resource temporarily unavailable/.test(shell.output()), () => shell.output());
    assert.notEqual(await shell.exited, 0);
    assert.doesNotMatch(shell.output(), /spawned/);
    const stats = await handle.stats();
    assert.equal(stats.pids.current, 3);
    assert.equal(stats.pids.limit, 4);
    assert.equal(stats.memory.limit, 64 * 1024 * 1024);
    assert.ok(stats.memory.usage > 0);
    assert.ok(Array.isArray(stats.io));
    assert.equal((await handle.pids()).length, 3);

    await handle.freeze();
    assert.equal(await handle.state(), 'frozen');
    assert.equal(read(dirs.freezer, 'freezer.state'), 'FROZEN');
    await handle.thaw();
    assert.equal(await handle.state(), 'thawed');

    await assert.rejects(handle.destroy({ timeoutMs: 100 }), (err) => isBerthError(err, 'conflict'));
    await handle.killAll('SIGKILL');
    await handle.destroy();
  } finally {
    await handle.killAll('SIGKILL').catch(() => undefined);
    await handle.destroy();
  }
  for (const dir of Object.values(dirs)) assert.equal(existsSync(dir), false, `${dir} was not removed`);
  assert.deepEqual(await leftovers(), []);
});

test('v1: open finds an existing group, refuses a missing one, sweep removes empty leftovers', { skip }, async () => {
  const manager = await detectCgroupManager();
  await assert.rejects(manager.open(`${token}-missing`), (err) => isBerthError(err, 'not_found'));
  await assert.rejects(manager.create(`${token}/../escape`), (err) => isBerthError(err, 'invalid_argument'));
  const a = await manager.create(`/${token}-a/inner`);
  const b = await manager.create(`/${token}-b`);
  const reopened = await manager.open(`/${token}-a/inner`);
  assert.deepEqual(reopened.directories, a.directories);
  assert.deepEqual((await manager.open('ignored', a.directories)).directories, a.directories);
  await assert.rejects(manager.open('x', { pids: '/etc' }), (err) => isBerthError(err, 'invalid_argument'));
  const shell = startWaitingShell('sleep 30');
  await b.addProcess(shell.child.pid ?? -1);
  try {
    const removed = await sweepCgroups(manager, `/${token}-`);
    assert.ok(removed.some((dir) => dir.endsWith(`/${token}-a/inner`)));
    assert.ok(removed.some((dir) => dir.endsWith(`/${token}-a`)));
    // b holds a process, so its pids directory stays (other hierarchies too)
    assert.equal(existsSync(b.directories.pids ?? ''), true);
  } finally {
    await b.killAll('SIGKILL');
    await b.destroy();
  }
  await sweepCgroups(manager, `/${token}-`);
  assert.deepEqual(await leftovers(), []);
  await assert.rejects(sweepCgroups(manager, '/'), (err) => isBerthError(err, 'invalid_argument'));
});

test('v1: memory+swap updates in both directions keep memsw >= limit at every step', { skip }, async () => {
  const manager = await detectCgroupManager();
  const mb = 1024 * 1024;
  const handle = await manager.create(`${token}-mem`, { memory: { limit: 64 * mb, swap: 96 * mb } });
  const dir = handle.directories.memory;
  try {
    if (!existsSync(`${dir}/memory.memsw.limit_in_bytes`)) return; // swap accounting off: nothing to order
    assert.equal(read(dir, 'memory.memsw.limit_in_bytes'), String(96 * mb));
    await handle.applyResources({ memory: { limit: 256 * mb, swap: 512 * mb } }); // grow: swap first
    assert.equal(read(dir, 'memory.limit_in_bytes'), String(256 * mb));
    assert.equal(read(dir, 'memory.memsw.limit_in_bytes'), String(512 * mb));
    await handle.applyResources({ memory: { limit: 32 * mb, swap: 48 * mb } }); // shrink: limit first
    assert.equal(read(dir, 'memory.limit_in_bytes'), String(32 * mb));
    assert.equal(read(dir, 'memory.memsw.limit_in_bytes'), String(48 * mb));
    await handle.applyResources({ memory: { limit: -1 } }); // unlimited both
    assert.equal((await handle.stats()).memory.limit, null);
  } finally {
    await handle.destroy();
  }
  assert.deepEqual(await leftovers(), []);
});

async function waitFor(check: () => boolean, describe: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; saw: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
