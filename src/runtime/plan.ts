// The one place where an OCI spec becomes a helper plan (src/sys/plan-format.ts): the
// order of the steps, which namespaces are new or joined, how mounts and devices are made.
// The helper only obeys. Validation errors name the config.json field.
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../errors/berth-error.js';
import type { LinuxCapabilities, Mount, NamespaceType, Process, Spec } from '../oci/runtime-spec.js';
import type { PlanOp } from '../sys/plan-writer.js';
import { planIdmappedMounts } from './idmapped-mounts.js';
import { CAPABILITIES, CLONE_FLAGS, MOUNT_FLAG_OPTIONS, MS, NS_PROC_NAMES, PROPAGATION_OPTIONS, RLIMITS } from './linux-constants.js';
import { resolveInRootfs, type LinkCache } from './rootfs-paths.js';
import type { InheritedAttributes } from './runtime.js';
import { deviceNumbers } from '../util/device-number.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CreatePlanContext {
  /** absolute host path of the rootfs */
  rootfs: string;
  bundleDir: string;
  fifoPath: string;
  exitFile: string;
  consoleSocket?: string;
  /** relay the pty through the helper's stdin/stdout (in-process terminal) */
  relayTerminal: boolean;
  /** compiled seccomp BPF, when the spec has a seccomp section */
  seccompProgram?: Buffer;
  /** the caller's umask and rlimits, for what config.json leaves unset (IoOptions.inherit) */
  inherit?: InheritedAttributes;
  /** v1: controller -> host dir of the container's cgroup; v2: { unified: dir } */
  cgroupDirectories?: Readonly<Record<string, string>>;
  /** the shim writes the container's pid to these cgroup.procs files right after the clone */
  cgroupJoin?: readonly string[];
  /** pause at HOOK_WAIT (mounts made, before pivot_root) for the prestart/createRuntime/createContainer hooks */
  hookWait?: boolean;
  /** the runtime itself runs in a user namespace (rootless berthd): devices cannot be made with mknod */
  runtimeInUserNamespace?: boolean;
}

export interface ExecPlanContext {
  /** pid of the container's init, whose namespaces the process joins */
  initPid: number;
  namespaces: readonly NamespaceType[];
  exitFile?: string;
  consoleSocket?: string;
  relayTerminal: boolean;
  seccompProgram?: Buffer;
  /** the caller's umask and rlimits, for what config.json leaves unset (IoOptions.inherit) */
  inherit?: InheritedAttributes;
}

const DEFAULT_DEVICES: ReadonlyArray<[string, number, number]> = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];
const DEV_SYMLINKS: ReadonlyArray<[string, string]> = [
  ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'], ['pts/ptmx', '/dev/ptmx'],
];

function capabilityMask(names: readonly string[] | undefined, field: string): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, index) => {
    const bit = CAPABILITIES.indexOf(name);
    if (bit < 0) throw invalidArgument('UNKNOWN_CAPABILITY', `${field}[${index}]: unknown capability ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(bit);
  });
  return mask;
}

export function capabilityOps(caps: LinuxCapabilities | undefined, field: string): { bounding: PlanOp; sets: PlanOp } {
  const c = caps ?? {};
  return {
    bounding: { op: 'CAP_BOUNDING', ints: [capabilityMask(c.bounding, `${field}.bounding`)] },
    sets: {
      op: 'CAPS',
      ints: [capabilityMask(c.effective, `${field}.effective`), capabilityMask(c.permitted, `${field}.permitted`),
        capabilityMask(c.inheritable, `${field}.inheritable`), capabilityMask(c.ambient, `${field}.ambient`)],
    },
  };
}

export interface ParsedMountOptions { flags: number; propagation: number[]; data: string[]; bind: boolean; recursive: boolean }

export function parseMountOptions(options: readonly string[] | undefined, type: string | undefined): ParsedMountOptions {
  const parsed: ParsedMountOptions = { flags: 0, propagation: [], data: [], bind: type === 'bind', recursive: false };
  for (const option of options ?? []) {
    const flag = MOUNT_FLAG_OPTIONS[option];
    const prop = PROPAGATION_OPTIONS[option];
    if (option === 'bind' || option === 'rbind') {
      parsed.bind = true;
      parsed.recursive ||= option === 'rbind';
    } else if (option === 'idmap' || option === 'ridmap') {
      // idmapped-mounts.ts: made before the clone, attached by IDMAP_ATTACH
    } else if (flag) parsed.flags = flag[1] ? parsed.flags & ~flag[0] : parsed.flags | flag[0];
    else if (prop !== undefined) parsed.propagation.push(prop);
    else parsed.data.push(option);
  }
  return parsed;
}

function processOps(proc: Process, field: string, ctx: { seccompProgram?: Buffer; inherit?: InheritedAttributes }, waitForStart: PlanOp): PlanOp[] {
  const seccompProgram = ctx.seccompProgram;
  const ops: PlanOp[] = [];
  if (proc.oomScoreAdj !== undefined) ops.push({ op: 'OOM_SCORE_ADJ', ints: [BigInt.asUintN(64, BigInt(proc.oomScoreAdj))] });
  const listed = new Set<number>();
  (proc.rlimits ?? []).forEach((limit, index) => {
    const resource = RLIMITS[limit.type];
    if (resource === undefined) throw invalidArgument('UNKNOWN_RLIMIT', `${field}.rlimits[${index}].type: unknown rlimit ${limit.type}`);
    listed.add(resource);
    ops.push({ op: 'RLIMIT', ints: [resource, limit.soft, limit.hard] });
  });
  for (const limit of ctx.inherit?.rlimits ?? []) {
    if (!listed.has(limit.resource)) ops.push({ op: 'RLIMIT', ints: [limit.resource, limit.soft, limit.hard] });
  }
  const caps = capabilityOps(proc.capabilities, `${field}.capabilities`);
  ops.push(caps.bounding);
  // without no_new_privs the filter needs CAP_SYS_ADMIN, which may be dropped below
  if (seccompProgram && !proc.noNewPrivileges) ops.push({ op: 'SECCOMP', strs: [seccompProgram] });
  ops.push({ op: 'CREDS', ints: [proc.user.uid, proc.user.gid, ...(proc.user.additionalGids ?? [])] });
  const umask = proc.user.umask ?? ctx.inherit?.umask;
  if (umask !== undefined) ops.push({ op: 'UMASK', ints: [umask] });
  ops.push(caps.sets);
  if (proc.noNewPrivileges) ops.push({ op: 'NO_NEW_PRIVS' });
  ops.push({ op: 'CHDIR', strs: [proc.cwd] });
  ops.push(waitForStart);
  if (seccompProgram && proc.noNewPrivileges) ops.push({ op: 'SECCOMP', strs: [seccompProgram] });
  ops.push(execveOp(proc, field));
  return ops;
}

function execveOp(proc: Process, field: string): PlanOp {
  const args = proc.args ?? [];
  if (args.length === 0) throw invalidArgument('NO_PROCESS_ARGS', `${field}.args: must name the program to run`);
  const env = proc.env ?? [];
  const pathValue = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  return { op: 'EXECVE', ints: [args.length, env.length], strs: [pathValue, ...args, ...env] };
}

function terminalOps(proc: Process, consoleSocket: string | undefined, relay: boolean): { shim: PlanOp[]; child: PlanOp[] } {
  if (!proc.terminal) return { shim: [], child: [{ op: 'SETSID' }] };
  const shim: PlanOp[] = [];
  if (consoleSocket) shim.push({ op: 'CONSOLE_SOCKET', strs: [consoleSocket] });
  else shim.push({ op: 'TERMINAL_RELAY', ints: [relay ? 1 : 0] });
  const size = proc.consoleSize;
  return { shim, child: [{ op: 'SETSID' }, { op: 'TERMINAL', ints: [size?.width ?? 0, size?.height ?? 0] }] };
}

/** Which namespaces are new (clone/unshare) and which are joined by path. */
function namespacePlan(spec: Spec): { cloneFlags: number; unshareFlags: number; joins: PlanOp[]; pidJoin: PlanOp[]; types: Set<NamespaceType> } {
  const planned = namespaceFlags(spec);
  // a new user namespace loses the host's privileges over namespaces it did not make:
  // join those (e.g. a network namespace of the networks service) before the clone
  const newUser = planned.types.has('user') && (planned.cloneFlags & CLONE_FLAGS.user) !== 0;
  return newUser ? { ...planned, pidJoin: [...planned.pidJoin, ...planned.joins], joins: [] } : planned;
}

function namespaceFlags(spec: Spec): { cloneFlags: number; unshareFlags: number; joins: PlanOp[]; pidJoin: PlanOp[]; types: Set<NamespaceType> } {
  const namespaces = spec.linux?.namespaces ?? [];
  const types = new Set<NamespaceType>();
  let newFlags = 0;
  const joins: PlanOp[] = [];
  const pidJoin: PlanOp[] = [];
  namespaces.forEach((ns, index) => {
    if (types.has(ns.type)) throw invalidArgument('DUPLICATE_NAMESPACE', `linux.namespaces[${index}]: ${ns.type} namespace listed twice`);
    types.add(ns.type);
    if (ns.path) {
      const join: PlanOp = { op: 'SETNS', ints: [CLONE_FLAGS[ns.type]], strs: [ns.path] };
      if (ns.type === 'pid') pidJoin.push(join);
      else if (ns.type === 'user') joins.unshift(join);
      else joins.push(join);
    } else newFlags |= CLONE_FLAGS[ns.type];
  });
  // the cgroup namespace is unshared once the process sits in its cgroup
  const withoutCgroup = newFlags & ~CLONE_FLAGS.cgroup;
  const joinsUser = namespaces.some((ns) => ns.type === 'user' && ns.path);
  // joining a user namespace first means new namespaces are unshared after it, inside it
  const cloneFlags = joinsUser ? withoutCgroup & CLONE_FLAGS.pid : withoutCgroup;
  const unshareFlags = joinsUser ? withoutCgroup & ~CLONE_FLAGS.pid : 0;
  return { cloneFlags, unshareFlags, joins, pidJoin, types };
}

/**
 * 1 directory, 2 anything else. Synchronous like rootfs-paths.ts: a stat of a source whose
 * dentry is cached costs microseconds, a thread pool round trip (and the wake-up of a
 * worker on a busy machine) more.
 */
function bindKind(source: string, field: string): 1 | 2 {
  const st = statSync(source, { throwIfNoEntry: false });
  if (st === undefined) throw invalidArgument('MOUNT_SOURCE_MISSING', `${field}.source: ${source} does not exist`);
  return st.isDirectory() ? 1 : 2;
}

function mountOps(mount: Mount, index: number, ctx: CreatePlanContext, idmapSlot: number | undefined, links: LinkCache): PlanOp[] {
  const field = `mounts[${index}]`;
  const destination = mount.destination.startsWith('/') ? mount.destination : `/${mount.destination}`;
  resolveInRootfs(ctx.rootfs, destination, `${field}.destination`, links);
  const opts = parseMountOptions(mount.options, mount.type);
  const ops: PlanOp[] = [];
  if (mount.type === 'cgroup' || mount.type === 'cgroup2') return cgroupMountOps(destination, opts, ctx);
  if (opts.bind) {
    if (!mount.source) throw invalidArgument('MOUNT_SOURCE_MISSING', `${field}.source: a bind mount needs a source`);
    const source = path.resolve(ctx.bundleDir, mount.source);
    const kind = bindKind(source, field);
    if (idmapSlot !== undefined) ops.push({ op: 'IDMAP_ATTACH', ints: [idmapSlot, kind], strs: [destination] });
    else ops.push({ op: 'MOUNT', ints: [MS.BIND | (opts.recursive ? MS.REC : 0), kind, 1], strs: [source, destination, '', ''] });
    if ((opts.flags & ~MS.REC) !== 0) {
      ops.push({ op: 'MOUNT', ints: [MS.BIND | MS.REMOUNT | opts.flags, 0, 1], strs: ['', destination, '', ''] });
    }
  } else {
    ops.push({ op: 'MOUNT', ints: [opts.flags, 1, 1], strs: [mount.source ?? mount.type ?? 'none', destination, mount.type ?? '', opts.data.join(',')] });
  }
  for (const prop of opts.propagation) ops.push({ op: 'MOUNT', ints: [prop, 0, 1], strs: ['', destination, '', ''] });
  return ops;
}

/** cgroup mounts show the container's own cgroup: cgroup2 on v2, a tmpfs of per-controller binds on v1. */
function cgroupMountOps(destination: string, opts: ParsedMountOptions, ctx: CreatePlanContext): PlanOp[] {
  const dirs = ctx.cgroupDirectories ?? {};
  const flags = opts.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC;
  if (dirs['unified']) return [{ op: 'MOUNT', ints: [flags, 1, 1], strs: ['cgroup', destination, 'cgroup2', ''] }];
  const ops: PlanOp[] = [{ op: 'MOUNT', ints: [MS.NOSUID | MS.NODEV | MS.NOEXEC, 1, 1], strs: ['tmpfs', destination, 'tmpfs', 'mode=755'] }];
  for (const [controller, dir] of Object.entries(dirs)) {
    const target = path.posix.join(destination, controller);
    ops.push({ op: 'MOUNT', ints: [MS.BIND | MS.REC, 1, 1], strs: [dir, target, '', ''] });
    ops.push({ op: 'MOUNT', ints: [MS.BIND | MS.REMOUNT | flags, 0, 1], strs: ['', target, '', ''] });
  }
  if (opts.flags & MS.RDONLY) ops.push({ op: 'MOUNT', ints: [MS.BIND | MS.REMOUNT | flags, 0, 1], strs: ['', destination, '', ''] });
  return ops;
}

function deviceOps(spec: Spec, inUserNs: boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  const devices: Array<{ path: string; type: string; major: number; minor: number; mode: number; uid?: number; gid?: number; fromSpec: boolean }> =
    DEFAULT_DEVICES.map(([p, major, minor]) => ({ path: p, type: 'c', major, minor, mode: 0o666, fromSpec: false }));
  for (const d of spec.linux?.devices ?? []) {
    devices.push({ path: d.path, type: d.type, major: d.major ?? 0, minor: d.minor ?? 0, mode: d.fileMode ?? 0o666,
      ...(d.uid !== undefined ? { uid: d.uid } : {}), ...(d.gid !== undefined ? { gid: d.gid } : {}), fromSpec: true });
  }
  for (const d of devices) {
    if (inUserNs) {
      // mknod is not allowed in a user namespace: bind the host's node instead, as runc does
      // (found by its number: a device renamed host:container is not at the container's path)
      const source = d.fromSpec ? hostDeviceNode(d) : d.path;
      ops.push({ op: 'MOUNT', ints: [MS.BIND, 2, 1], strs: [source, d.path, '', ''] });
      continue;
    }
    const typeBits = d.type === 'b' ? 0o060000 : d.type === 'p' ? 0o010000 : 0o020000;
    const dev = (BigInt(d.major & 0xfff) << 8n) | BigInt(d.minor & 0xff) | (BigInt(d.minor & ~0xff) << 12n) | (BigInt(d.major & ~0xfff) << 32n);
    // the owner from the spec, as runc chowns the node it makes (absent: root's, as made)
    const owner = d.uid !== undefined || d.gid !== undefined ? [d.uid ?? 0, d.gid ?? 0] : [];
    ops.push({ op: 'MKNOD', ints: [typeBits | (d.mode & 0o7777), dev, ...owner], strs: [d.path] });
  }
  for (const [target, link] of DEV_SYMLINKS) ops.push({ op: 'SYMLINK', strs: [target, link] });
  return ops;
}

/**
 * The host's node for a spec device, to bind: at the same path when that is the same device,
 * else udev's /dev/char|block/MAJOR:MINOR link, else a node of that number directly in /dev.
 */
export function hostDeviceNode(d: { path: string; type: string; major: number; minor: number }, devDir = '/dev'): string {
  const block = d.type === 'b';
  const isIt = (candidate: string): boolean => {
    try {
      const st = statSync(candidate);
      const { major, minor } = deviceNumbers(st.rdev);
      return (block ? st.isBlockDevice() : st.isCharacterDevice()) && major === d.major && minor === d.minor;
    } catch {
      return false;
    }
  };
  if (isIt(d.path)) return d.path;
  const udevLink = path.join(devDir, block ? 'block' : 'char', `${d.major}:${d.minor}`);
  if (isIt(udevLink)) return udevLink;
  const found = readdirSync(devDir).map((name) => path.join(devDir, name)).find(isIt);
  if (found !== undefined) return found;
  throw invalidArgument('NO_HOST_DEVICE', `device ${d.path} (${d.type} ${d.major}:${d.minor}): no host node with that number to bind into a user namespace`);
}

/** pivot_root refuses shared mounts and bind mounts refuse unbindable ones: set those after the pivot */
const AFTER_PIVOT_PROPAGATION = new Set(['shared', 'rshared', 'unbindable', 'runbindable']);

function rootPropagation(spec: Spec): number {
  const name = spec.linux?.rootfsPropagation;
  if (name && AFTER_PIVOT_PROPAGATION.has(name)) return MS.PRIVATE | MS.REC;
  return name ? (PROPAGATION_OPTIONS[name] ?? MS.SLAVE | MS.REC) | MS.REC : MS.SLAVE | MS.REC;
}

function filesystemOps(spec: Spec, ctx: CreatePlanContext, inUserNs: boolean, idmapSlots: ReadonlyMap<number, number>): PlanOp[] {
  const ops: PlanOp[] = [
    { op: 'MOUNT', ints: [rootPropagation(spec), 0, 0], strs: ['', '/', '', ''] },
    { op: 'MOUNT', ints: [MS.BIND | MS.REC, 0, 0], strs: [ctx.rootfs, ctx.rootfs, '', ''] },
    { op: 'ROOTFS', strs: [ctx.rootfs] },
  ];
  const links: LinkCache = new Map();
  (spec.mounts ?? []).forEach((mount, i) => { ops.push(...mountOps(mount, i, ctx, idmapSlots.get(i), links)); });
  ops.push(...deviceOps(spec, inUserNs));
  if (ctx.hookWait) ops.push({ op: 'HOOK_WAIT' });
  ops.push({ op: 'PIVOT_ROOT', strs: [ctx.rootfs] });
  const late = spec.linux?.rootfsPropagation;
  if (late && AFTER_PIVOT_PROPAGATION.has(late)) ops.push({ op: 'MOUNT', ints: [PROPAGATION_OPTIONS[late] ?? 0, 0, 0], strs: ['', '/', '', ''] });
  return ops;
}

function systemOps(spec: Spec, types: Set<NamespaceType>): PlanOp[] {
  const ops: PlanOp[] = [];
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!types.has('uts')) throw invalidArgument('HOSTNAME_WITHOUT_UTS', 'hostname: setting it needs a uts namespace in linux.namespaces');
    ops.push({ op: 'SETHOSTNAME', strs: [spec.hostname] });
  }
  if (spec.domainname !== undefined && spec.domainname !== '') {
    if (!types.has('uts')) throw invalidArgument('HOSTNAME_WITHOUT_UTS', 'domainname: setting it needs a uts namespace in linux.namespaces');
    ops.push({ op: 'SETDOMAINNAME', strs: [spec.domainname] });
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(key) || key.includes('..')) throw invalidArgument('INVALID_SYSCTL', `linux.sysctl: invalid key ${JSON.stringify(key)}`);
    ops.push({ op: 'WRITE_FILE', strs: [`/proc/sys/${key.replace(/\./g, '/')}`, value] });
  }
  return ops;
}

/** As runc's userns.RunningInUserNS: any uid_map but the initial namespace's identity map. */
export async function runningInUserNamespace(): Promise<boolean> {
  const map = await readFile('/proc/self/uid_map', 'utf8').catch(() => '');
  return map !== '' && map.trim().split(/\s+/).join(' ') !== '0 0 4294967295';
}

/** A new user namespace (not one joined by path): TypeScript writes its uid/gid maps after the clone. */
export function writesIdMaps(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'user' && !ns.path);
}

/** The plan of `create`: clone, wait for the shim (or TypeScript), build the root, wait for start, exec. */
export async function buildCreatePlan(spec: Spec, ctx: CreatePlanContext): Promise<PlanOp[]> {
  const proc = spec.process;
  if (!proc) throw invalidArgument('NO_PROCESS', 'process: config.json has no process to run');
  const ns = namespacePlan(spec);
  const inUserNs = ns.types.has('user');
  const devicesByBind = inUserNs || (ctx.runtimeInUserNamespace ?? await runningInUserNamespace());
  const term = terminalOps(proc, ctx.consoleSocket, ctx.relayTerminal);
  const idmapped = planIdmappedMounts(spec, ctx.bundleDir);
  const ops: PlanOp[] = [
    { op: 'EXIT_FILE', strs: [ctx.exitFile] }, ...term.shim, { op: 'FIFO_OPEN', strs: [ctx.fifoPath] }, ...idmapped.preClone,
    ...ns.pidJoin, ...(ctx.cgroupJoin?.length ? [{ op: 'CGROUP_JOIN', strs: ctx.cgroupJoin } as const] : []),
    { op: 'CLONE', ints: [ns.cloneFlags] },
  ];
  ops.push(...ns.joins);
  if (ns.unshareFlags) ops.push({ op: 'UNSHARE', ints: [ns.unshareFlags] });
  // TypeScript writes the id maps of a new user namespace while the process waits; without
  // one it only has to sit in its cgroup, which the shim tells it (no round trip through us)
  ops.push({ op: writesIdMaps(spec) ? 'SYNC_WAIT' : 'SHIM_WAIT' });
  // with the maps written, become the namespace's root (kuid 0 is unmapped inside it); the
  // change of ids makes /proc/self root's (not dumpable), so oom_score_adj is written before
  if (inUserNs) {
    if (proc.oomScoreAdj !== undefined) ops.push({ op: 'OOM_SCORE_ADJ', ints: [BigInt.asUintN(64, BigInt(proc.oomScoreAdj))] });
    ops.push({ op: 'CREDS', ints: [0, 0] });
  }
  if (ns.types.has('cgroup') && !spec.linux?.namespaces?.find((n) => n.type === 'cgroup')?.path) {
    ops.push({ op: 'UNSHARE', ints: [CLONE_FLAGS.cgroup] });
  }
  if (ns.types.has('mount')) ops.push(...filesystemOps(spec, ctx, devicesByBind, idmapped.slots));
  else ops.push(...(ctx.hookWait ? [{ op: 'HOOK_WAIT' } as const] : []), { op: 'CHDIR', strs: [ctx.rootfs] });
  ops.push(...systemOps(spec, ns.types));
  if (ns.types.has('mount')) {
    for (const p of spec.linux?.readonlyPaths ?? []) ops.push({ op: 'READONLY_PATH', strs: [p] });
    for (const p of spec.linux?.maskedPaths ?? []) ops.push({ op: 'MASK_PATH', strs: [p] });
    if (spec.root?.readonly) ops.push({ op: 'READONLY_PATH', strs: ['/'] });
  }
  ops.push(...term.child);
  ops.push(...processOps(inUserNs ? { ...proc, oomScoreAdj: undefined } : proc, 'process', ctx, { op: 'FIFO_WAIT' }));
  return ops;
}

/** The plan of `exec`: join every namespace of the container's init, then run `proc`. */
export function buildExecPlan(proc: Process, ctx: ExecPlanContext, field = 'process'): PlanOp[] {
  const join = (type: NamespaceType): PlanOp => ({ op: 'SETNS', ints: [CLONE_FLAGS[type]], strs: [`/proc/${ctx.initPid}/ns/${NS_PROC_NAMES[type]}`] });
  const term = terminalOps(proc, ctx.consoleSocket, ctx.relayTerminal);
  const ops: PlanOp[] = [];
  if (ctx.exitFile) ops.push({ op: 'EXIT_FILE', strs: [ctx.exitFile] });
  ops.push(...term.shim);
  if (ctx.namespaces.includes('pid')) ops.push(join('pid'));
  ops.push({ op: 'CLONE', ints: [0] });
  // the user namespace after the others (joined first, it would take the host's privileges
  // over a network namespace the container's user namespace does not own), the mount
  // namespace last (after it, /proc/<pid> is the container's)
  const order: NamespaceType[] = ['cgroup', 'ipc', 'uts', 'network', 'user', 'mount'];
  for (const type of order) if (ctx.namespaces.includes(type)) ops.push(join(type));
  ops.push({ op: 'SYNC_WAIT' });
  ops.push(...term.child);
  ops.push(...processOps(proc, field, ctx, { op: 'READY' }));
  return ops;
}
