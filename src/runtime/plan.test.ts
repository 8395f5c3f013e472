import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildCreatePlan, buildExecPlan, capabilityOps, parseMountOptions } from './plan.js';
import { resolveInRootfs } from './rootfs-paths.js';
import { CLONE_FLAGS, MS } from './linux-constants.js';
import type { Spec } from '../oci/runtime-spec.js';
import type { PlanOp } from '../sys/plan-writer.js';

function spec(edit?: (s: Spec) => void): Spec {
  const s: Spec = {
    ociVersion: '1.0.2',
    process: { user: { uid: 1000, gid: 1000, additionalGids: [5] }, args: ['sh'], env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true },
    root: { path: 'rootfs', readonly: true },
    hostname: 'h',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'ro'] }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }], maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
  };
  edit?.(s);
  return s;
}

async function withRootfs<T>(fn: (rootfs: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-plan-test-'));
  await mkdir(path.join(dir, 'rootfs'));
  try {
    return await fn(path.join(dir, 'rootfs'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ctx = (rootfs: string) => ({ rootfs, bundleDir: path.dirname(rootfs), fifoPath: '/state/fifo', exitFile: '/state/exit', relayTerminal: true });
const names = (ops: PlanOp[]): string[] => ops.map((o) => o.op);

test('create plan: clone with the new namespaces, wait for the shim, build the root, then the user, then wait for start and exec', async () => {
  await withRootfs(async (rootfs) => {
    const ops = await buildCreatePlan(spec(), ctx(rootfs));
    const clone = ops.find((o) => o.op === 'CLONE');
    assert.equal(clone?.ints?.[0], CLONE_FLAGS.pid | CLONE_FLAGS.mount | CLONE_FLAGS.uts);
    const order = names(ops);
    const at = (name: string): number => order.indexOf(name);
    assert.ok(at('FIFO_OPEN') < at('CLONE'), 'the fifo is opened before clone');
    assert.ok(at('CLONE') < at('SHIM_WAIT') && at('SHIM_WAIT') < at('ROOTFS'), 'no user namespace: the shim lets it go on');
    assert.equal(at('SYNC_WAIT'), -1);
    assert.ok(at('ROOTFS') < at('PIVOT_ROOT') && at('PIVOT_ROOT') < at('SETHOSTNAME'));
    assert.ok(at('MASK_PATH') > at('PIVOT_ROOT') && at('READONLY_PATH') > at('PIVOT_ROOT'));
    assert.ok(at('CAP_BOUNDING') < at('CREDS') && at('CREDS') < at('CAPS'));
    assert.equal(order[order.length - 1], 'EXECVE');
    assert.equal(order[order.length - 2], 'FIFO_WAIT');
    assert.deepEqual(ops.find((o) => o.op === 'CREDS')?.ints, [1000, 1000, 5]);
    const execve = ops[ops.length - 1];
    assert.deepEqual(execve?.strs, ['/bin', 'sh', 'PATH=/bin']);
    assert.equal(ops.filter((o) => o.op === 'READONLY_PATH').at(-1)?.strs?.[0], '/', 'readonly root comes last');
  });
});

test('a new user namespace waits for TypeScript (its id maps) instead of the shim; one joined by path does not', async () => {
  await withRootfs(async (rootfs) => {
    const withMaps = names(await buildCreatePlan(spec((s) => { s.linux!.namespaces!.push({ type: 'user' }); }), ctx(rootfs)));
    assert.ok(withMaps.indexOf('CLONE') < withMaps.indexOf('SYNC_WAIT') && withMaps.indexOf('SYNC_WAIT') < withMaps.indexOf('ROOTFS'));
    assert.equal(withMaps.indexOf('SHIM_WAIT'), -1);
    const joined = names(await buildCreatePlan(spec((s) => { s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' }); }), ctx(rootfs)));
    assert.ok(joined.includes('SHIM_WAIT') && !joined.includes('SYNC_WAIT'));
  });
});

test('with no_new_privs the seccomp filter is loaded last, right before execve', async () => {
  await withRootfs(async (rootfs) => {
    const ops = await buildCreatePlan(spec(), { ...ctx(rootfs), seccompProgram: Buffer.alloc(8) });
    assert.deepEqual(names(ops).slice(-3), ['FIFO_WAIT', 'SECCOMP', 'EXECVE']);
    const withoutNnp = await buildCreatePlan(spec((s) => { s.process!.noNewPrivileges = false; }), { ...ctx(rootfs), seccompProgram: Buffer.alloc(8) });
    const order = names(withoutNnp);
    assert.ok(order.indexOf('SECCOMP') < order.indexOf('CREDS'), 'without nnp the filter is loaded while CAP_SYS_ADMIN is held');
  });
});

test('joining a namespace by path: user first, pid in the helper before clone', async () => {
  await withRootfs(async (rootfs) => {
    const ops = await buildCreatePlan(spec((s) => {
      s.linux!.namespaces = [{ type: 'pid', path: '/proc/1/ns/pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'network', path: '/run/netns/x' }];
    }), ctx(rootfs));
    const order = names(ops);
    assert.ok(order.indexOf('SETNS') < order.indexOf('CLONE'), 'pid namespace joined before clone');
    const childJoins = ops.slice(order.indexOf('CLONE')).filter((o) => o.op === 'SETNS').map((o) => o.strs?.[0]);
    assert.deepEqual(childJoins, ['/proc/1/ns/user', '/run/netns/x']);
    assert.equal(ops.find((o) => o.op === 'UNSHARE')?.ints?.[0], CLONE_FLAGS.mount | CLONE_FLAGS.uts);
  });
});

test('a hostname without a uts namespace, an unknown capability and an unknown rlimit are named', async () => {
  await withRootfs(async (rootfs) => {
    await assert.rejects(buildCreatePlan(spec((s) => { s.linux!.namespaces = [{ type: 'mount' }]; }), ctx(rootfs)), /hostname: .*uts/);
    await assert.rejects(buildCreatePlan(spec((s) => { s.process!.capabilities = { effective: ['CAP_NOPE'] }; }), ctx(rootfs)),
      /process\.capabilities\.effective\[0\]: unknown capability "CAP_NOPE"/);
    await assert.rejects(buildCreatePlan(spec((s) => { s.process!.rlimits = [{ type: 'RLIMIT_WAT', soft: 1, hard: 1 }]; }), ctx(rootfs)),
      /process\.rlimits\[0\]\.type: unknown rlimit RLIMIT_WAT/);
  });
});

test('capability names become bit masks', () => {
  const ops = capabilityOps({ bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_SYS_ADMIN'] }, 'process.capabilities');
  assert.deepEqual(ops.bounding.ints, [(1n << 0n) | (1n << 5n)]);
  assert.deepEqual(ops.sets.ints, [1n << 21n, 0n, 0n, 0n]);
});

test('mount options split into flags, propagation and filesystem data', () => {
  const parsed = parseMountOptions(['rbind', 'ro', 'nosuid', 'rslave', 'mode=755', 'exec'], undefined);
  assert.equal(parsed.bind, true);
  assert.equal(parsed.recursive, true);
  assert.equal(parsed.flags, MS.RDONLY | MS.NOSUID);
  assert.deepEqual(parsed.propagation, [MS.SLAVE | MS.REC]);
  assert.deepEqual(parsed.data, ['mode=755']);
});

test('bind mounts: ro becomes a bind remount; a missing source is named', async () => {
  await withRootfs(async (rootfs) => {
    const ops = await buildCreatePlan(spec((s) => { s.mounts = [{ destination: '/data', type: 'bind', source: rootfs, options: ['bind', 'ro'] }]; }), ctx(rootfs));
    const mounts = ops.filter((o) => o.op === 'MOUNT' && o.strs?.[1] === '/data');
    assert.deepEqual(mounts.map((m) => m.ints), [[MS.BIND, 1, 1], [MS.BIND | MS.REMOUNT | MS.RDONLY, 0, 1]]);
    await assert.rejects(buildCreatePlan(spec((s) => { s.mounts = [{ destination: '/d', type: 'bind', source: '/no/such/dir' }]; }), ctx(rootfs)),
      /mounts\[0\]\.source: \/no\/such\/dir does not exist/);
  });
});

test('resolveInRootfs follows absolute symlinks inside the root and rejects escapes', async () => {
  await withRootfs(async (rootfs) => {
    await mkdir(path.join(rootfs, 'run'));
    await mkdir(path.join(rootfs, 'var'));
    await symlink('/run', path.join(rootfs, 'var/run'));
    await symlink('../../..', path.join(rootfs, 'var/up'));
    assert.equal(resolveInRootfs(rootfs, '/var/run/docker.sock', 'mounts[0].destination'), path.join(rootfs, 'run/docker.sock'));
    assert.equal(resolveInRootfs(rootfs, '/../../etc', 'f'), path.join(rootfs, 'etc'), 'lexical .. stops at the root');
    assert.throws(() => resolveInRootfs(rootfs, '/var/up/x', 'mounts[1].destination'), /mounts\[1\]\.destination \/var\/up\/x escapes the rootfs through the symlink \/var\/up -> \.\.\/\.\.\/\.\./);
  });
});

test('resolveInRootfs with a LinkCache looks each host path up once, symlinks and missing paths alike', async () => {
  await withRootfs(async (rootfs) => {
    await mkdir(path.join(rootfs, 'run'));
    await mkdir(path.join(rootfs, 'var'));
    await symlink('/run', path.join(rootfs, 'var/run'));
    const cache = new Map<string, string | null>();
    assert.equal(resolveInRootfs(rootfs, '/var/run/a', 'f', cache), path.join(rootfs, 'run/a'));
    assert.equal(cache.get(path.join(rootfs, 'var/run')), '/run');
    assert.equal(cache.get(path.join(rootfs, 'run/a')), null, 'a missing component is remembered as no link');
    // what the cache holds is what this plan uses: the tree changing under it is not read again
    await symlink('/elsewhere', path.join(rootfs, 'run/a'));
    assert.equal(resolveInRootfs(rootfs, '/var/run/a/b', 'f', cache), path.join(rootfs, 'run/a/b'));
    assert.equal(resolveInRootfs(rootfs, '/var/run/a/b', 'f'), path.join(rootfs, 'elsewhere/b'), 'without a cache the link is followed');
  });
});

test('exec plan joins the init\'s namespaces, pid before clone, and reports ready before execve', () => {
  const ops = buildExecPlan({ user: { uid: 0, gid: 0 }, args: ['ls'], cwd: '/' }, { initPid: 42, namespaces: ['pid', 'mount', 'network'], relayTerminal: false });
  const order = names(ops);
  assert.equal(ops[0]?.strs?.[0], '/proc/42/ns/pid');
  assert.ok(order.indexOf('CLONE') === 1);
  assert.deepEqual(ops.filter((o) => o.op === 'SETNS').slice(1).map((o) => o.strs?.[0]), ['/proc/42/ns/net', '/proc/42/ns/mnt']);
  assert.deepEqual(order.slice(-2), ['READY', 'EXECVE']);
});

test('create plan: a runtime inside a user namespace (rootless berthd) binds device nodes instead of mknod', async () => {
  await withRootfs(async (rootfs) => {
    const rootful = await buildCreatePlan(spec(), { ...ctx(rootfs), runtimeInUserNamespace: false });
    const rootless = await buildCreatePlan(spec(), { ...ctx(rootfs), runtimeInUserNamespace: true });
    assert.ok(names(rootful).includes('MKNOD'));
    assert.ok(!names(rootless).includes('MKNOD'));
    const nullBind = rootless.find((o) => o.op === 'MOUNT' && o.strs?.[0] === '/dev/null');
    assert.ok(nullBind, 'the host /dev/null is bound into the container');
    assert.equal(names(rootless).filter((n) => n === 'CREDS').length, names(rootful).filter((n) => n === 'CREDS').length, 'no extra switch to a namespace root');
  });
});

test('spec devices: the node is made with the spec\'s owner; in a user namespace a renamed one binds the host node of that number', async () => {
  await withRootfs(async (rootfs) => {
    const withDevices = spec((x) => {
      x.linux!.devices = [
        { type: 'c', path: '/dev/mynull', major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 5 },
        { type: 'c', path: '/dev/plain', major: 1, minor: 5 },
      ];
    });
    const made = (await buildCreatePlan(withDevices, { ...ctx(rootfs), runtimeInUserNamespace: false })).filter((o) => o.op === 'MKNOD');
    const mynull = made.find((o) => o.strs?.[0] === '/dev/mynull');
    assert.deepEqual(mynull?.ints?.slice(2), [1000, 5], 'uid and gid follow mode and number');
    assert.deepEqual(made.find((o) => o.strs?.[0] === '/dev/plain')?.ints?.length, 2, 'no owner in the spec: made as root, no chown');
    const bound = (await buildCreatePlan(withDevices, { ...ctx(rootfs), runtimeInUserNamespace: true })).filter((o) => o.op === 'MOUNT');
    const source = bound.find((o) => o.strs?.[1] === '/dev/mynull')?.strs?.[0];
    assert.ok(source === '/dev/null' || source === '/dev/char/1:3', `the host's 1:3 node is bound, not /dev/mynull: ${source}`);
    assert.equal(bound.find((o) => o.strs?.[1] === '/dev/plain')?.strs?.[0] !== '/dev/plain', true, '/dev/plain is not a host node: 1:5 is');
    const missing = spec((x) => { x.linux!.devices = [{ type: 'b', path: '/dev/nothing', major: 4095, minor: 4095 }]; });
    await assert.rejects(buildCreatePlan(missing, { ...ctx(rootfs), runtimeInUserNamespace: true }), /device \/dev\/nothing \(b 4095:4095\): no host node/);
  });
});

test('a new user namespace: joined namespaces are entered before the clone, exec joins the user namespace last', async () => {
  await withRootfs(async (rootfs) => {
    const ops = await buildCreatePlan(spec((x) => {
      x.linux!.namespaces = [{ type: 'user' }, { type: 'mount' }, { type: 'pid' }, { type: 'uts' }, { type: 'network', path: '/run/netns/x' }];
      x.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      x.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }), ctx(rootfs));
    const order = names(ops);
    assert.ok(order.indexOf('SETNS') >= 0 && order.indexOf('SETNS') < order.indexOf('CLONE'), 'the network namespace is joined by the helper');
    assert.equal(ops.find((o) => o.op === 'CLONE')?.ints?.[0], CLONE_FLAGS.user | CLONE_FLAGS.mount | CLONE_FLAGS.pid | CLONE_FLAGS.uts);
  });
  const exec = buildExecPlan({ args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } }, { initPid: 7, namespaces: ['user', 'network', 'mount'], relayTerminal: false });
  const joined = exec.filter((o) => o.op === 'SETNS').map((o) => String(o.strs?.[0]));
  assert.deepEqual(joined, ['/proc/7/ns/net', '/proc/7/ns/user', '/proc/7/ns/mnt']);
});

test('create plan: the shim joins the cgroup (CGROUP_JOIN before CLONE), and only when there is a cgroup', async () => {
  await withRootfs(async (rootfs) => {
    const files = ['/sys/fs/cgroup/pids/berth/x/cgroup.procs', '/sys/fs/cgroup/memory/berth/x/cgroup.procs'];
    const ops = await buildCreatePlan(spec(), { ...ctx(rootfs), cgroupJoin: files });
    const join = ops.findIndex((o) => o.op === 'CGROUP_JOIN');
    assert.ok(join >= 0 && join === ops.findIndex((o) => o.op === 'CLONE') - 1, names(ops).join(' '));
    assert.deepEqual(ops[join]?.strs, files);
    assert.equal(names(await buildCreatePlan(spec(), { ...ctx(rootfs), cgroupJoin: [] })).includes('CGROUP_JOIN'), false);
  });
});

test('inherited umask and rlimits fill in only what the process leaves unset', () => {
  const inherit = { umask: 0o27, rlimits: [{ resource: 7, soft: 500n, hard: 1000n }, { resource: 3, soft: 4096n, hard: 8192n }] };
  const proc = { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', rlimits: [{ type: 'RLIMIT_NOFILE', soft: 64, hard: 64 }] };
  const ops = buildExecPlan(proc, { initPid: 7, namespaces: ['mount'], relayTerminal: false, inherit });
  assert.deepEqual(ops.filter((o) => o.op === 'RLIMIT').map((o) => o.ints), [[7, 64, 64], [3, 4096n, 8192n]], 'the listed NOFILE wins; STACK is inherited');
  assert.deepEqual(ops.find((o) => o.op === 'UMASK')?.ints, [0o27]);
  const own = buildExecPlan({ ...proc, user: { uid: 0, gid: 0, umask: 0o77 } }, { initPid: 7, namespaces: ['mount'], relayTerminal: false, inherit });
  assert.deepEqual(own.find((o) => o.op === 'UMASK')?.ints, [0o77], 'process.user.umask wins');
  assert.equal(buildExecPlan(proc, { initPid: 7, namespaces: ['mount'], relayTerminal: false }).some((o) => o.op === 'UMASK'), false, 'nothing inherited: no umask op');
});
