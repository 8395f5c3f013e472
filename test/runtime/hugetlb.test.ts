// With hugetlb mounted as a cgroup v1 hierarchy (as bench/runtime does for crun on a
// hybrid host), the built-in runtime puts the container in that hierarchy too, honours a
// hugepage limit there, and removes the group on delete.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { makeTestRuntime } from './harness.js';
import { mountHugetlbV1, v1Host } from './hugetlb.js';

const token = uniqueToken();
after(async () => { await removeTemplate(); });

const hugetlbFree = (): boolean => existsSync('/proc/cgroups')
  && /^hugetlb\t0\t/m.test(readFileSync('/proc/cgroups', 'utf8'));

test('a container joins a hugetlb v1 hierarchy mounted at run time and leaves no group behind', {
  skip: requires('root') || (!v1Host() ? 'not a cgroup v1/hybrid host' : hugetlbFree() ? false : 'hugetlb is not a free cgroup2 controller here'),
}, async () => {
  const mounted = mountHugetlbV1();
  assert.ok(mounted.undo, `hugetlb could not be mounted: ${mounted.note ?? 'already mounted'}`);
  // made after the mount: the runtime finds its hierarchies on first use
  const rt = await makeTestRuntime(token);
  const id = `berth-hugetlb-${token}`;
  const dir = `/sys/fs/cgroup/hugetlb/berth/${id}`;
  try {
    const bundle = await makeBundle(token, ['/bin/sh', '-c', 'cat /proc/self/cgroup'], (s) => {
      s.linux!.resources = { ...s.linux!.resources, hugepageLimits: [{ pageSize: '2MB', limit: 4 * 1024 * 1024 }] };
    });
    const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
    assert.equal(readFileSync(`${dir}/hugetlb.2MB.limit_in_bytes`, 'utf8').trim(), String(4 * 1024 * 1024));
    assert.ok(readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').includes(String(handle.pid)), 'the init is in the hugetlb group');
    await rt.runtime.start(id);
    assert.deepEqual(await handle.exit, { exitCode: 0, signal: null });
    await rt.runtime.delete(id);
    assert.equal(existsSync(dir), false, `${dir} left behind`);
    rt.assertNoLeaks(id);
    await bundle.remove();
  } finally {
    await rt.cleanup();
    await mounted.undo?.();
  }
  assert.equal(hugetlbFree(), true, 'hugetlb is back with cgroup2');
  assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), / - cgroup \S+ \S*\bhugetlb\b/, 'the hugetlb mount is gone');
});
