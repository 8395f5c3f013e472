import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeImageConfig } from './create.js';
import { buildSpec, capabilities } from './oci-spec.js';
import { initialState, type ContainerRecord } from './record.js';
import { toLinuxResources } from './resources.js';

function record(overrides: Partial<ContainerRecord['HostConfig']> = {}, config: Partial<ContainerRecord['Config']> = {}): ContainerRecord {
  return {
    Id: 'a'.repeat(64), Created: '', Path: 'sh', Args: [], Name: '/t', Image: 'sha256:x',
    Config: { Cmd: ['sh'], Hostname: 'aaaaaaaaaaaa', Env: ['A=1'], ...config }, HostConfig: overrides,
    State: initialState(), RestartCount: 0, ManuallyStopped: false, Runtime: 'berth', CgroupsPath: '/berth/x', ExecIDs: [],
  };
}

const inputs = (r: ContainerRecord) => ({
  record: r, rootfs: '/r', user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, netnsPath: '/run/netns/x',
  etcFiles: { hosts: '/h', hostname: '/hn', resolvConf: '/rc' }, initBinary: '/usr/bin/tini-static',
  defaultSeccomp: () => ({ defaultAction: 'SCMP_ACT_ERRNO' as const, syscalls: [] }),
  convertSeccomp: () => ({ defaultAction: 'SCMP_ACT_ALLOW' as const }), cgroupsPath: '/berth/x',
});

test('the spec has docker defaults: caps, masked paths, seccomp, devices, /etc binds', () => {
  const spec = buildSpec(inputs(record()));
  assert.deepEqual(spec.process?.capabilities?.bounding?.length, 14);
  assert.ok(spec.linux?.maskedPaths?.includes('/proc/kcore'));
  assert.ok(spec.linux?.readonlyPaths?.includes('/proc/sys'));
  assert.equal(spec.linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(spec.linux?.resources?.devices?.[0], { allow: false, access: 'rwm' });
  assert.deepEqual(spec.linux?.namespaces?.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
  assert.ok(spec.mounts?.some((m) => m.destination === '/etc/hosts' && m.source === '/h'));
  assert.deepEqual(spec.process?.env?.slice(0, 2), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=aaaaaaaaaaaa']);
});

test('privileged, cap-add/drop, init, security options, tmpfs and binds', () => {
  const privileged = buildSpec(inputs(record({ Privileged: true })));
  assert.equal(privileged.linux?.seccomp, undefined);
  assert.equal(privileged.linux?.maskedPaths, undefined);
  const caps = capabilities(false, ['NET_ADMIN'], ['chown']);
  assert.ok(caps.includes('CAP_NET_ADMIN') && !caps.includes('CAP_CHOWN'));
  assert.deepEqual(capabilities(false, [], ['ALL']), []);
  assert.throws(() => capabilities(false, ['CAP_BOGUS'], []), /unknown capability/);
  const spec = buildSpec(inputs(record({ Init: true, SecurityOpt: ['no-new-privileges', 'seccomp=unconfined'],
    Tmpfs: { '/run': 'size=1m' }, Binds: ['/srv:/data:ro'], ReadonlyRootfs: true })));
  assert.deepEqual(spec.process?.args, ['/sbin/docker-init', '--', 'sh']);
  assert.equal(spec.process?.noNewPrivileges, true);
  assert.equal(spec.linux?.seccomp, undefined);
  assert.equal(spec.root?.readonly, true);
  assert.deepEqual(spec.mounts?.find((m) => m.destination === '/data')?.options, ['rbind', 'ro', 'rprivate']);
  assert.deepEqual(spec.mounts?.find((m) => m.destination === '/run')?.options, ['noexec', 'nosuid', 'nodev', 'size=1m']);
  assert.deepEqual(spec.mounts?.find((m) => m.destination === '/etc/hosts')?.options, ['rbind', 'ro', 'rprivate'], 'read-only with the root, as dockerd');
  assert.deepEqual(privileged.mounts?.find((m) => m.destination === '/etc/resolv.conf')?.options, ['rbind', 'rprivate']);
  assert.throws(() => buildSpec(inputs(record({ SecurityOpt: ['bogus'] }))), /invalid --security-opt/);
});

test('resources follow dockerd: --cpus as quota, swap twice memory, pids', () => {
  assert.deepEqual(toLinuxResources({ NanoCpus: 500_000_000, Memory: 64 << 20, PidsLimit: 50, BlkioWeight: 300 }), {
    memory: { limit: 64 << 20, swap: 128 << 20 }, cpu: { period: 100000, quota: 50000 }, pids: { limit: 50 }, blockIO: { weight: 300 },
  });
  assert.deepEqual(toLinuxResources({ PidsLimit: -1 }), {});
});

test('image config merge: entrypoint/cmd rules, env override, defaults', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'], Env: ['PATH=/bin', 'A=image'], WorkingDir: '/app', User: 'nobody' };
  const keep = mergeImageConfig({ Env: ['A=mine'] }, image, 'b'.repeat(64));
  assert.deepEqual([keep.Entrypoint, keep.Cmd], [['/entry'], ['default']]);
  assert.deepEqual(keep.Env, ['PATH=/bin', 'A=mine']);
  assert.equal(keep.WorkingDir, '/app');
  assert.equal(keep.Hostname, 'bbbbbbbbbbbb');
  const cmdOnly = mergeImageConfig({ Cmd: ['other'] }, image, 'b'.repeat(64));
  assert.deepEqual([cmdOnly.Entrypoint, cmdOnly.Cmd], [['/entry'], ['other']]);
  const newEntry = mergeImageConfig({ Entrypoint: ['/x'] }, image, 'b'.repeat(64));
  assert.deepEqual([newEntry.Entrypoint, newEntry.Cmd], [['/x'], null]);
  const reset = mergeImageConfig({ Entrypoint: [''], Cmd: ['ls'] }, image, 'b'.repeat(64));
  assert.deepEqual([reset.Entrypoint, reset.Cmd], [null, ['ls']]);
});

test('a network namespace of its own gets dockerd\'s sysctls: low ports and ping need no capability; --sysctl wins', () => {
  const own = buildSpec(inputs(record({ NetworkMode: 'bridge' })));
  assert.deepEqual(own.linux?.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' });
  const none = buildSpec({ ...inputs(record({ NetworkMode: 'none', Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024' } })), netnsPath: undefined });
  assert.equal(none.linux?.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '1024');
  const rootless = buildSpec({ ...inputs(record({ NetworkMode: 'none' })), networkSysctls: 'no-ping' });
  assert.deepEqual(rootless.linux?.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0' }, 'no ping range a user namespace cannot map');
  assert.equal(buildSpec({ ...inputs(record({ NetworkMode: 'bridge' })), networkSysctls: 'none' }).linux?.sysctl, undefined);
  assert.equal(buildSpec({ ...inputs(record({ NetworkMode: 'host' })), netnsPath: null }).linux?.sysctl, undefined);
  assert.equal(buildSpec(inputs(record({ NetworkMode: `container:${'b'.repeat(64)}` }))).linux?.sysctl, undefined);
});
