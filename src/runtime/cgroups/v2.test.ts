// The v2 manager against a fake cgroup2 tree in a temp dir: which files get which values.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isBerthError } from '../../errors/berth-error.js';
import { detectCgroupManager, sweepCgroups } from './manager.js';
import { CgroupV2Manager } from './v2.js';

let root = '';
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'berth-cgv2-'));
  await writeFile(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids\n');
  await writeFile(path.join(root, 'cgroup.subtree_control'), 'cpu\n');
  await writeFile(path.join(root, 'cgroup.procs'), '');
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const own = async (): Promise<string> => '0::/user.slice/session-1.scope\n';
const readIn = async (dir: string, file: string): Promise<string> => (await readFile(path.join(dir, file), 'utf8')).trim();

test('v2 create: relative path under the parent of our own cgroup, controllers enabled, resources written', async () => {
  const manager = new CgroupV2Manager(root, own);
  const handle = await manager.create('berth/c1', {
    memory: { limit: 100 * 1024 * 1024, swap: 150 * 1024 * 1024, reservation: 50 * 1024 * 1024 },
    cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
    pids: { limit: 64 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    unified: { 'memory.high': '90000000' },
  });
  const dir = path.join(root, 'user.slice', 'berth', 'c1');
  assert.equal(handle.path, 'berth/c1');
  assert.deepEqual(handle.directories, { unified: dir });
  assert.equal(await readIn(root, 'cgroup.subtree_control'), '+cpuset +io +memory +hugetlb +pids');
  const expected: Record<string, string> = {
    'memory.max': String(100 * 1024 * 1024),
    'memory.swap.max': String(50 * 1024 * 1024),
    'memory.low': String(50 * 1024 * 1024),
    'cpu.weight': '39',
    'cpu.max': '50000 100000',
    'cpuset.cpus': '0-1',
    'cpuset.mems': '0',
    'pids.max': '64',
    'io.weight': 'default 4950',
    'io.max': '8:0 rbps=1048576',
    'hugetlb.2MB.max': '4194304',
    'memory.high': '90000000',
  };
  for (const [file, value] of Object.entries(expected)) assert.equal(await readIn(dir, file), value, file);
});

test('v2 update: unlimited values become "max"; BFQ weight is used when offered', async () => {
  const manager = new CgroupV2Manager(root, own);
  const handle = await manager.create('/berth/c2');
  const dir = path.join(root, 'berth', 'c2');
  await writeFile(path.join(dir, 'memory.swap.max'), '0');
  await writeFile(path.join(dir, 'io.bfq.weight'), 'default 100');
  await handle.applyResources({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1 }, blockIO: { weight: 300 } });
  assert.equal(await readIn(dir, 'memory.max'), 'max');
  assert.equal(await readIn(dir, 'memory.swap.max'), 'max');
  assert.equal(await readIn(dir, 'pids.max'), 'max');
  assert.equal(await readIn(dir, 'cpu.max'), 'max 100000');
  assert.equal(await readIn(dir, 'io.bfq.weight'), '300');
});

test('v2 rejects bad resources with the field named and leaves no directory behind', async () => {
  const manager = new CgroupV2Manager(root, own);
  await assert.rejects(manager.create('/berth/bad', { memory: { limit: 100, swap: 50 } }),
    (err) => isBerthError(err, 'invalid_argument') && err.message.includes('linux.resources.memory.swap'));
  await assert.rejects(manager.create('/berth/bad2', { unified: { '../escape': '1' } }),
    (err) => isBerthError(err, 'invalid_argument') && err.message.includes("'../escape'"));
  await assert.rejects(manager.create('/berth/bad3', { cpu: { realtimeRuntime: 1000 } }), /realtime/);
  await assert.rejects(manager.open('/berth/bad'), (err) => isBerthError(err, 'not_found'));
  await assert.rejects(manager.create('/'), (err) => isBerthError(err, 'invalid_argument'));
});

test('v2 open: by path, by the directories saved at create time, never outside the mount', async () => {
  const creator = new CgroupV2Manager(root, own);
  const created = await creator.create('berth/c4');
  await writeFile(path.join(created.directories.unified ?? '', 'cgroup.procs'), ''); // the kernel would make it
  // another process, in another cgroup, resolves the relative path elsewhere
  const other = new CgroupV2Manager(root, async () => '0::/system.slice/other.service\n');
  await assert.rejects(other.open('berth/c4'), (err) => isBerthError(err, 'not_found'));
  const reopened = await other.open('berth/c4', created.directories);
  assert.deepEqual(reopened.directories, created.directories);
  await assert.rejects(other.open('x', { unified: path.join(root, '..') }), (err) => isBerthError(err, 'invalid_argument'));
  await assert.rejects(other.open('x', { unified: root }), (err) => isBerthError(err, 'invalid_argument'));
});

test('v2 state and stats read cgroup.freeze, cgroup.events and the stat files', async () => {
  const manager = new CgroupV2Manager(root, own);
  const handle = await manager.create('/berth/c3');
  const dir = path.join(root, 'berth', 'c3');
  await writeFile(path.join(dir, 'cgroup.procs'), '12\n34\n');
  await mkdir(path.join(dir, 'sub'));
  await writeFile(path.join(dir, 'sub', 'cgroup.procs'), '56\n');
  assert.deepEqual(await handle.pids(), [12, 34, 56]);
  await writeFile(path.join(dir, 'cgroup.freeze'), '1');
  await writeFile(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
  assert.equal(await handle.state(), 'freezing');
  await writeFile(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
  assert.equal(await handle.state(), 'frozen');
  await writeFile(path.join(dir, 'memory.current'), '4096');
  await writeFile(path.join(dir, 'memory.max'), 'max');
  await writeFile(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_group_kill 0\n');
  await writeFile(path.join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 7\n');
  await writeFile(path.join(dir, 'pids.current'), '3');
  await writeFile(path.join(dir, 'pids.max'), '10');
  await writeFile(path.join(dir, 'io.stat'), '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=0 rios=1 wios=0\n');
  const stats = await handle.stats();
  assert.deepEqual(stats.io, [
    { major: 8, minor: 0, readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 },
    { major: 253, minor: 1, readBytes: 5, writeBytes: 0, readOps: 1, writeOps: 0 },
  ]);
  assert.equal(stats.memory.usage, 4096);
  assert.equal(stats.memory.limit, null);
  assert.equal(stats.memory.failCount, 3);
  assert.equal(await handle.oomKills?.(), 2);
  assert.equal(stats.cpu.usageNanos, 1_500_000);
  assert.deepEqual(stats.cpu.throttling, { periods: 4, throttledPeriods: 2, throttledNanos: 7000 });
  assert.deepEqual(stats.pids, { current: 3, limit: 10 });
});

test('sweepCgroups removes empty groups under a prefix, keeps busy ones and refuses the root', async () => {
  const manager = new CgroupV2Manager(root, own);
  await mkdir(path.join(root, 'sweep-a', 'x', 'y'), { recursive: true });
  await mkdir(path.join(root, 'sweep-b'));
  await writeFile(path.join(root, 'sweep-b', 'busy'), ''); // rmdir fails like on a cgroup with processes
  await mkdir(path.join(root, 'other'));
  const removed = await sweepCgroups(manager, '/sweep-');
  assert.deepEqual(removed.map((d) => path.relative(root, d)).sort(), ['sweep-a', 'sweep-a/x', 'sweep-a/x/y']);
  assert.equal(existsSync(path.join(root, 'sweep-b')), true);
  assert.equal(existsSync(path.join(root, 'other')), true);
  await mkdir(path.join(root, 'other', 'child'));
  assert.deepEqual((await sweepCgroups(manager, '/other/')).map((d) => path.relative(root, d)), ['other/child']);
  assert.equal(existsSync(path.join(root, 'other')), true);
  for (const bad of ['/', '', '//']) {
    await assert.rejects(sweepCgroups(manager, bad), (err) => isBerthError(err, 'invalid_argument'), bad);
  }
});

test('detectCgroupManager: v2 at a cgroup2 root, v1 in hybrid mode, an error without cgroups', async () => {
  const unified = '40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n';
  assert.equal((await detectCgroupManager('/sys/fs/cgroup', { mountinfo: unified })).version, 2);
  const hybrid = '31 30 0:28 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n41 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n';
  assert.equal((await detectCgroupManager('/sys/fs/cgroup/', { mountinfo: hybrid })).version, 1);
  assert.equal((await detectCgroupManager('/sys/fs/cgroup/unified', { mountinfo: hybrid })).version, 2);
  await assert.rejects(detectCgroupManager('/sys/fs/cgroup', { mountinfo: '' }), (err) => isBerthError(err, 'unavailable'));
});
