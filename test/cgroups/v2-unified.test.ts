// cgroup v2 for real where this machine has it: the empty cgroup2 at /sys/fs/cgroup/unified
// (or /sys/fs/cgroup itself on a unified host). Without controllers, what can be checked
// is membership (cgroup.procs), the freezer (cgroup.freeze), cgroup.kill and cleanup.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { detectCgroupManager, sweepCgroups } from '../../src/runtime/cgroups/manager.js';
import { parseCgroupMounts } from '../../src/runtime/cgroups/paths.js';
import { requires } from '../support/requirements.js';

const token = `berth-test-${randomBytes(4).toString('hex')}`;
const v2Root = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'))
  .find((m) => m.fsType === 'cgroup2' && (m.mountPoint === '/sys/fs/cgroup' || m.mountPoint === '/sys/fs/cgroup/unified'))?.mountPoint;
const skip = requires('root') || (v2Root === undefined ? 'requires a cgroup2 mount' : false);

test('v2: process membership, freeze/thaw, cgroup.kill and destroy on a real cgroup2', { skip }, async () => {
  const manager = await detectCgroupManager(v2Root);
  assert.equal(manager.version, 2);
  const handle = await manager.create(`/${token}/ctr`);
  const dir = handle.directories.unified ?? '';
  // The shell forks only after it has been moved in, so its children are in the group too.
  const child = spawn('/bin/busybox', ['sh', '-c', 'read go; sleep 60 & echo forked; sleep 60; wait'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const forked = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  try {
    // On a unified host the controllers are there: check real limits too.
    const controllers = readFileSync(`${dir}/cgroup.controllers`, 'utf8').split(/\s+/);
    if (controllers.includes('pids')) {
      await handle.applyResources({ pids: { limit: 10 } });
      assert.equal(readFileSync(`${dir}/pids.max`, 'utf8').trim(), '10');
    }
    if (controllers.includes('memory')) {
      await handle.applyResources({ memory: { limit: 64 * 1024 * 1024 } });
      assert.equal((await handle.stats()).memory.limit, 64 * 1024 * 1024);
    }
    if (controllers.includes('hugetlb') && existsSync(`${dir}/hugetlb.2MB.max`)) {
      await handle.applyResources({ hugepageLimits: [{ pageSize: '2MB', limit: 8 * 1024 * 1024 }] });
      assert.equal(readFileSync(`${dir}/hugetlb.2MB.max`, 'utf8').trim(), String(8 * 1024 * 1024));
    }
    await handle.addProcess(child.pid ?? -1);
    assert.ok((await handle.pids()).includes(child.pid ?? -1));
    assert.match(readFileSync(`/proc/${String(child.pid)}/cgroup`, 'utf8'), new RegExp(`0::/${token}/ctr`));
    child.stdin.write('go\n');
    await forked;
    assert.ok((await handle.pids()).length >= 2, 'the forked sleep is in the group');
    await handle.freeze();
    assert.equal(await handle.state(), 'frozen');
    assert.match(readFileSync(`${dir}/cgroup.events`, 'utf8'), /frozen 1/);
    await handle.thaw();
    assert.equal(await handle.state(), 'thawed');
    const stats = await handle.stats();
    assert.ok(stats.cpu.usageNanos >= 0);
    await handle.killAll('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    await handle.destroy();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await sweepCgroups(manager, `/${token}`);
  }
  assert.equal(existsSync(dir), false);
  assert.deepEqual((await readdir(v2Root ?? '/')).filter((e) => e.startsWith(token)), []);
});
