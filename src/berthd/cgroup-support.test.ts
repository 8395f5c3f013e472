import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCgroupManager } from '../runtime/cgroups/manager.js';
import { probeResourceSupport, supportV2 } from './cgroup-support.js';

test('cgroup v2 as dockerd 20.10 reads it: limits by controller, no swappiness, OOM switch or kernel memory', () => {
  const support = supportV2(new Set(['cpuset', 'cpu', 'io', 'memory', 'pids']), '0-3', '0');
  assert.equal(support.memoryLimit, true);
  assert.equal(support.blkioWeight, true);
  assert.equal(support.memorySwappiness, false);
  assert.equal(support.oomKillDisable, false);
  assert.equal(support.cpus, '0-3');
  const bare = supportV2(new Set(), undefined, undefined);
  assert.equal(bare.pidsLimit, false);
  assert.equal(bare.cpus, undefined);
});

test('this host\'s cgroups: every mounted controller that applies limits is found (no root needed)', async (t) => {
  const manager = await detectCgroupManager().catch(() => undefined);
  if (!manager) { t.skip('no cgroup filesystem'); return; }
  const support = await probeResourceSupport(manager);
  assert.equal(support.memoryLimit, manager.version === 2 ? support.memoryLimit : true, 'v1: memory.limit_in_bytes at the top');
  assert.equal(support.pidsLimit, manager.version === 2 ? support.pidsLimit : true, 'v1: the pids hierarchy is mounted');
});
