import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../errors/berth-error.js';
import { directoryInMount, parseCgroupMounts, parseCgroupsPath, parseProcCgroup, systemdToPath } from './paths.js';

const HYBRID = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
41 22 0:38 / /mnt/other rw - cgroup cgroup rw,pids
42 30 0:39 / /sys/fs/cgroup/foo rw - cgroup cgroup rw,none,name=foo,release_agent=/x`;

test('parseCgroupMounts reads controllers, mount roots and types, filtered by a root', () => {
  const mounts = parseCgroupMounts(HYBRID, '/sys/fs/cgroup');
  assert.deepEqual(mounts.map((m) => [m.mountPoint, m.fsType, m.controllers.join(','), m.root]), [
    ['/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'cpu,cpuacct', '/'],
    ['/sys/fs/cgroup/memory', 'cgroup', 'memory', '/docker/abc'],
    ['/sys/fs/cgroup/systemd', 'cgroup', 'name=systemd', '/'],
    ['/sys/fs/cgroup/unified', 'cgroup2', '', '/'],
    ['/sys/fs/cgroup/foo', 'cgroup', 'name=foo', '/'],
  ]);
  assert.equal(parseCgroupMounts(HYBRID).length, 6);
});

test('parseProcCgroup maps each controller and the v2 entry', () => {
  const map = parseProcCgroup('12:cpu,cpuacct:/a\n1:name=systemd:/s\n0::/user.slice\n');
  assert.equal(map.get('cpu'), '/a');
  assert.equal(map.get('cpuacct'), '/a');
  assert.equal(map.get('name=systemd'), '/s');
  assert.equal(map.get(''), '/user.slice');
});

test('parseCgroupsPath: absolute, relative, systemd, and hostile paths', () => {
  assert.deepEqual(parseCgroupsPath('/berth//abc/'), { kind: 'absolute', path: '/berth/abc' });
  assert.deepEqual(parseCgroupsPath('berth/abc'), { kind: 'relative', path: 'berth/abc' });
  assert.deepEqual(parseCgroupsPath('system.slice:docker:abc'), { kind: 'absolute', path: '/system.slice/docker-abc.scope' });
  for (const bad of ['', '../x', '/a/../../etc', 'a\nb', 'a\0b', '.']) {
    assert.throws(() => parseCgroupsPath(bad), (err) => isBerthError(err, 'invalid_argument') && err.message.includes('cgroupsPath'), bad);
  }
});

test('systemdToPath expands nested slices like systemd does', () => {
  assert.equal(systemdToPath('machine-berth.slice:berth:c1'), '/machine.slice/machine-berth.slice/berth-c1.scope');
  assert.equal(systemdToPath(':berth:c1'), '/system.slice/berth-c1.scope');
  assert.equal(systemdToPath('user.slice::c1'), '/user.slice/c1.scope');
  assert.equal(systemdToPath('-.slice:p:n'), '/p-n.scope');
  assert.throws(() => systemdToPath('notaslice:p:n'), /not a systemd slice/);
  assert.throws(() => systemdToPath('a--b.slice:p:n'), /not a valid slice/);
  assert.throws(() => systemdToPath('a.slice:p:'), /needs a name/);
});

test('directoryInMount strips the mount root of a nested hierarchy', () => {
  assert.equal(directoryInMount({ mountPoint: '/sys/fs/cgroup/memory', root: '/' }, '/berth/x'), '/sys/fs/cgroup/memory/berth/x');
  assert.equal(directoryInMount({ mountPoint: '/sys/fs/cgroup/memory', root: '/docker/abc' }, '/docker/abc/berth'), '/sys/fs/cgroup/memory/berth');
});
