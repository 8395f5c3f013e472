// The decisions of rootless berthd, without root: which berthd this is, where its state
// lives, its id maps, the cgroup decision and the warnings for limits it cannot apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRootlessCgroups, NoCgroupManager } from './cgroups.js';
import { mappedIdCount, rootlessIdMap } from './id-maps.js';
import { daemonMode, isInitialUserNamespace } from './mode.js';
import { rootlessPathDefaults } from './paths.js';
import { limitWarnings, rootlessPlatformFrom } from './platform.js';

const INITIAL = '         0          0 4294967295\n';
const INSIDE = '         0       1001          1\n         1     100000      65536\n';

test('mode: a non-root user re-executes; root inside a user namespace with the marker is the inner daemon; real root stays rootful', () => {
  assert.equal(isInitialUserNamespace(INITIAL), true);
  assert.equal(isInitialUserNamespace(INSIDE), false);
  assert.equal(daemonMode(1001, undefined, INITIAL), 'rootless-parent');
  assert.equal(daemonMode(0, '1', INSIDE), 'rootless-child');
  assert.equal(daemonMode(0, undefined, INITIAL), 'rootful');
  assert.equal(daemonMode(0, '1', INITIAL), 'rootful', 'the marker in real root\'s environment changes nothing');
  assert.equal(daemonMode(0, undefined, INSIDE), 'rootful', 'root of some other user namespace without the marker');
});

test('paths: XDG directories, with the documented fallbacks; a missing or relative XDG_RUNTIME_DIR is a clear error', () => {
  assert.deepEqual(rootlessPathDefaults({ XDG_RUNTIME_DIR: '/run/user/1001' }, '/home/u'), {
    dataRoot: '/home/u/.local/share/berth', execRoot: '/run/user/1001/berth', configFile: '/home/u/.config/berth/daemon.json',
  });
  const custom = rootlessPathDefaults({ XDG_RUNTIME_DIR: '/r', XDG_DATA_HOME: '/d', XDG_CONFIG_HOME: 'relative/ignored' }, '/home/u');
  assert.equal(custom.dataRoot, '/d/berth');
  assert.equal(custom.configFile, '/home/u/.config/berth/daemon.json');
  assert.throws(() => rootlessPathDefaults({}, '/home/u'), /XDG_RUNTIME_DIR .*unset/);
  assert.throws(() => rootlessPathDefaults({ XDG_RUNTIME_DIR: 'tmp' }, '/home/u'), /XDG_RUNTIME_DIR .*"tmp"/);
});

test('id maps: 0 is the user, 1.. the subordinate ranges in order; a range holding the user\'s own id is skipped', () => {
  const map = rootlessIdMap(1001, [{ start: 100000, count: 65536 }, { start: 300000, count: 1000 }]);
  assert.deepEqual(map, [
    { inside: 0, outside: 1001, count: 1 },
    { inside: 1, outside: 100000, count: 65536 },
    { inside: 65537, outside: 300000, count: 1000 },
  ]);
  assert.equal(mappedIdCount(map), 66537);
  assert.deepEqual(rootlessIdMap(1001, [{ start: 1000, count: 10 }]), [{ inside: 0, outside: 1001, count: 1 }]);
});

test('cgroups: v1 or a v2 tree the user cannot write means no cgroups and a warning; a delegated v2 subtree is used', () => {
  const v1 = decideRootlessCgroups({ version: 1, delegatedWritable: false, controllers: [] });
  assert.equal(v1.useCgroups, false);
  assert.deepEqual(v1.limited, ['memory', 'cpu', 'pids', 'io', 'freezer']);
  assert.match(v1.warning ?? '', /cgroup v1/);
  const locked = decideRootlessCgroups({ version: 2, delegatedWritable: false, controllers: ['memory', 'pids'] });
  assert.equal(locked.useCgroups, false);
  assert.match(locked.warning ?? '', /no writable \(delegated\) cgroup v2 subtree/);
  const delegated = decideRootlessCgroups({ version: 2, delegatedWritable: true, controllers: ['cpu', 'memory', 'pids', 'io'] });
  assert.deepEqual(delegated, { useCgroups: true, limited: [], warning: undefined });
  const partial = decideRootlessCgroups({ version: 2, delegatedWritable: true, controllers: ['memory', 'pids'] });
  assert.deepEqual(partial.limited, ['cpu', 'io']);
  assert.match(partial.warning ?? '', /lacks the cpu, io controller/);
});

test('warnings: one per limit asked for that cannot be applied; unset and unlimited values say nothing', () => {
  const limited = ['memory', 'cpu', 'pids', 'io', 'freezer'];
  assert.deepEqual(limitWarnings({ Memory: 0, MemorySwap: -1, PidsLimit: 0, CpusetCpus: '', NanoCpus: 0 }, limited), []);
  const warnings = limitWarnings({ Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 10, Privileged: false }, limited);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0] ?? '', /cannot apply Memory \(memory limits/);
  assert.deepEqual(limitWarnings({ Memory: 1 }, ['cpu']), [], 'a limit the delegated tree has is applied, no warning');
  const netns = { netnsPath: '/x/netns', outside: false, keepsClientAddress: true, warnings: ['rootless: containers have no network beyond berth\'s own networks: no tun'] };
  const network = { netnsPath: '/x/netns', portForwarding: 'rootless-relay', dnsSockets: () => ({ udpFd: -1, tcpFd: -1 }), proxyTarget: (ip: string, port: number) => ({ ip, port }) };
  const platform = rootlessPlatformFrom(decideRootlessCgroups({ version: 1, delegatedWritable: false, controllers: [] }), new NoCgroupManager(1),
    netns, network, async () => undefined);
  assert.deepEqual(platform.securityOptions, ['name=rootless']);
  assert.equal(platform.containerCgroups, false);
  assert.match(platform.warnings[0] ?? '', /^WARNING: rootless: resource limits are not available/);
  assert.match(platform.warnings[1] ?? '', /^WARNING: rootless: containers have no network beyond/, 'the rootless netns\' problems are said too');
  assert.equal(platform.rootlessNetwork, network);
  assert.equal(platform.resourceWarnings({ Memory: 1 }).length, 1);
});

test('the no-cgroup manager creates nothing and opens nothing, so the runtime signals the init directly', async () => {
  const manager = new NoCgroupManager(1);
  const handle = await manager.create('/berth/abc');
  assert.deepEqual(handle.directories, {});
  await handle.addProcess(1);
  await handle.applyResources({});
  await assert.rejects(manager.open('/berth/abc'), (err: Error & { kind?: string }) => err.kind === 'not_found');
  await assert.rejects(handle.freeze(), /without cgroups/);
  assert.deepEqual(await manager.directoriesOf(), {});
});
