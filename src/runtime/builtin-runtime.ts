// The built-in OCI runtime: a bundle becomes a helper plan (plan.ts), one helper spawn
// clones the container and stays as its shim; TypeScript writes the id maps and places the
// pid in its cgroup while the child waits. State lives under <root>/<id> (state-store.ts).
import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { BerthError, conflict, errnoCode, invalidArgument, withCleanup } from '../errors/berth-error.js';
import { parseRuntimeSpec, type LinuxDeviceCgroup, type LinuxResources, type LinuxSeccomp, type Process, type Spec, type State } from '../oci/runtime-spec.js';
import { sealedHelperExecutable, startHelper, type HelperSession } from '../sys/helper.js';
import { HelperPool } from './helper-pool.js';
import { releaseExecFifo } from './exec-fifo.js';
import type { PlanOp } from '../sys/plan-writer.js';
import type { CgroupHandle, CgroupManager } from './cgroups/manager.js';
import { hasCreateHooks, runHooks, runHooksWarning } from './hooks.js';
import { signalName, signalNumber } from './linux-constants.js';
import { buildCreatePlan, buildExecPlan, runningInUserNamespace, writesIdMaps } from './plan.js';
import type { ContainerProcessInfo, DeleteOptions, ExitStatus, IoOptions, KillOptions, ProcessHandle, ProcessIo, Runtime, TraceOptions } from './runtime.js';
import { silentTimer, type PhaseTimer } from '../util/phase-timer.js';
import { DEFAULT_RUNTIME_ROOT, processStartTime, StateStore, type ContainerRecord } from './state-store.js';
import { BoundedMap } from '../util/bounded-map.js';

/** Compiles a seccomp section to BPF (engineer B's runtime/seccomp/compile.ts). */
export type SeccompCompiler = (seccomp: LinuxSeccomp) => Buffer;

export interface BuiltinRuntimeOptions {
  /** state directory root (runc's --root) */
  root?: string;
  /** the cgroup manager, or a function that finds it on first use */
  cgroups: CgroupManager | (() => Promise<CgroupManager>);
  compileSeccomp?: SeccompCompiler;
  /** spawn the helper from one sealed in-memory copy (long-lived callers: berthd) */
  sealedHelper?: boolean;
  /**
   * warm helpers kept ready for creates (helper-pool.ts); default 1 with sealedHelper (a
   * long-lived caller), else 0. close() kills them; they never hold the event loop.
   */
  warmHelpers?: number;
}

const SECCOMP_CACHE_SIZE = 16;
/** a shim exits right after the container: it is waited for no longer than this by delete */
const SHIM_EXIT_WAIT_MS = 2000;
/** where a container goes whose spec names no cgroupsPath (berthd always names one) */
const DEFAULT_CGROUP_PARENT = '/berth';

interface ContainerCreation {
  bundle: string;
  rootfs: string;
  seccompProgram: Buffer | undefined;
  /** the claimed state dir */
  dir: string;
  io: IoOptions;
  trace: PhaseTimer;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise` settled, or `ms` passed (the timer cleared either way: it must not hold a short-lived caller) */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

async function pidAlive(pid: number, startTime: string): Promise<boolean> {
  return await processStartTime(pid) === startTime;
}

function toExitStatus(exit: { exitCode: number; signal: number }): ExitStatus {
  return { exitCode: exit.exitCode, signal: exit.signal ? signalName(exit.signal) : null };
}

export class BuiltinRuntime implements Runtime {
  readonly name = 'berth';
  readonly takesSpecInMemory = true;
  readonly store: StateStore;
  private managerPromise: Promise<CgroupManager> | undefined;
  /** compiled BPF by profile (its JSON text), oldest first */
  private readonly seccompCache = new BoundedMap<string, Buffer>(SECCOMP_CACHE_SIZE);
  private helperExecutable: string | undefined;
  /** whether this process runs in a user namespace: fixed for its life, read once */
  private inUserNamespace: Promise<boolean> | undefined;

  private readonly helpers: HelperPool;
  /** the shims of containers created here, until deleted: their exit file follows MSG_EXIT (native/src/main.c) */
  private readonly shims = new Map<string, Promise<void>>();

  constructor(private readonly options: BuiltinRuntimeOptions) {
    this.store = new StateStore(options.root ?? DEFAULT_RUNTIME_ROOT);
    this.helpers = new HelperPool(options.warmHelpers ?? (options.sealedHelper ? 1 : 0), () => this.helper());
  }

  /** Kill and reap the warm helpers (a later create makes new ones). */
  close(): void {
    this.helpers.close();
  }

  private async cgroups(): Promise<CgroupManager> {
    const source = this.options.cgroups;
    this.managerPromise ??= typeof source === 'function' ? source() : Promise.resolve(source);
    return await this.managerPromise;
  }

  async create(id: string, bundleDir: string, io: IoOptions = {}): Promise<ProcessHandle> {
    const trace = io.trace ?? silentTimer();
    this.store.dir(id);
    const bundle = path.resolve(bundleDir);
    const spec = io.spec ?? await loadBundleSpec(bundle);
    const rootfs = await checkRootfs(bundle, spec);
    trace.mark('spec');
    const seccompProgram = this.compileSeccomp(spec.linux?.seccomp);
    trace.mark('seccomp');
    const dir = await this.store.claim(id);
    let handle: ProcessHandle | undefined;
    try {
      handle = await this.createContainer(id, spec, { bundle, rootfs, seccompProgram, dir, io, trace });
      return handle;
    } finally {
      // the next create's helper is spawned off this one's path
      this.helpers.refill(handle !== undefined, handle?.exit);
    }
  }

  /** create() once the spec is read and the state dir claimed: cgroup, plan, helper, state */
  private async createContainer(id: string, spec: Spec, c: ContainerCreation): Promise<ProcessHandle> {
    const { bundle, rootfs, seccompProgram, dir, io, trace } = c;
    const cgroupsPathDefaulted = spec.linux?.cgroupsPath === undefined;
    const cgroupsPath = spec.linux?.cgroupsPath ?? `${DEFAULT_CGROUP_PARENT}/${id}`;
    let cgroup: CgroupHandle | undefined;
    let session: HelperSession | undefined;
    return await withCleanup(async () => {
      cgroup = await (await this.cgroups()).create(cgroupsPath, withDefaultDevices(spec));
      trace.mark('cgroup');
      const plan = await buildCreatePlan(spec, {
        rootfs, bundleDir: bundle, fifoPath: this.store.fifoPath(id), exitFile: this.store.exitPath(id),
        consoleSocket: io.consoleSocket, relayTerminal: relaysTerminal(io), seccompProgram,
        cgroupDirectories: cgroup.directories, cgroupJoin: cgroupProcsFiles(cgroup), hookWait: hasCreateHooks(spec.hooks), inherit: io.inherit,
        runtimeInUserNamespace: await (this.inUserNamespace ??= runningInUserNamespace()),
      });
      trace.mark('plan');
      session = await this.helpers.start(plan, { stdio: io.stdio ?? 'pipe', detached: io.detach ?? false, executable: this.helper(), newNetns: makesNetworkNamespace(spec) });
      // the shim has placed the process in its cgroup (CGROUP_JOIN) before it reports the pid
      const pid = await session.pid;
      trace.mark('helper');
      // the container sets itself up while its state is written: nothing of it depends on the record
      if (writesIdMaps(spec)) {
        await writeIdMappings(spec, pid);
        session.go(); // it waits at SYNC_WAIT; otherwise the shim let it go on (SHIM_WAIT)
      }
      const record: ContainerRecord = {
        id, ociVersion: spec.ociVersion, bundle, rootfs, pid, pidStartTime: await processStartTime(pid) ?? '',
        created: new Date().toISOString(), annotations: spec.annotations, cgroupsPath,
        ...(cgroupsPathDefaulted ? { cgroupsPathDefaulted } : {}),
        namespaces: (spec.linux?.namespaces ?? []).map((ns) => ns.type), hooks: spec.hooks,
      };
      await this.store.save(record);
      trace.mark('state');
      if (hasCreateHooks(spec.hooks)) {
        // the container waits at HOOK_WAIT: namespaces made, mounts done, before pivot_root
        await session.hookPoint;
        // runtime.md: these hooks are steps 3-5, after the environment exists (step 2), so 'created'
        const state = this.store.toState(record, 'created');
        await runHooks(spec.hooks, 'prestart', state);
        await runHooks(spec.hooks, 'createRuntime', state);
        await runHooks(spec.hooks, 'createContainer', state, { pid, namespaces: record.namespaces });
        session.go();
        trace.mark('hooks');
      }
      await session.ready;
      trace.mark('container-setup');
      if (io.pidFile) await writeFile(io.pidFile, String(pid));
      this.shims.set(id, session.closed);
      return this.handleFor(session, pid, spec.process, io);
    }, async () => {
      await this.abandon(session, cgroup, dir);
    });
  }

  private helper(): string | undefined {
    if (this.options.sealedHelper) this.helperExecutable ??= sealedHelperExecutable();
    return this.helperExecutable;
  }

  private compileSeccomp(seccomp: LinuxSeccomp | undefined): Buffer | undefined {
    if (!seccomp) return undefined;
    if (!this.options.compileSeccomp) {
      throw new BerthError('not_implemented', 'SECCOMP_UNAVAILABLE', 'linux.seccomp: this runtime was built without a seccomp compiler');
    }
    // nearly every container of a daemon has the same (default) profile: compile it once
    const key = JSON.stringify(seccomp);
    const cached = this.seccompCache.get(key);
    if (cached) return cached;
    const program = this.options.compileSeccomp(seccomp);
    this.seccompCache.set(key, program);
    return program;
  }

  /** Undo a failed create: kill what was started, release the cgroup, remove the state dir. */
  private async abandon(session: HelperSession | undefined, cgroup: CgroupHandle | undefined, dir: string): Promise<void> {
    if (session) {
      const pid = await session.pid.catch(() => undefined);
      if (pid) killQuietly(pid, 'SIGKILL');
      session.kill('SIGKILL');
      await session.exit.catch(() => undefined);
      await session.closed; // its exit file is written after it reports the exit
    }
    if (cgroup) await cgroup.destroy();
    await this.store.remove(path.basename(dir));
  }

  private handleFor(session: HelperSession, pid: number, proc: Process | undefined, io: IoOptions): ProcessHandle {
    const exit = session.exit.then(toExitStatus);
    if (io.detach) session.detach();
    let processIo: ProcessIo = { kind: 'none' };
    if (Array.isArray(io.stdio) && proc?.terminal && !io.consoleSocket) {
      processIo = { kind: 'none', resize: async (cols, rows) => { session.resize(cols, rows); } };
    } else if ((io.stdio ?? 'pipe') === 'pipe' && session.stdin && session.stdout && session.stderr) {
      if (proc?.terminal && !io.consoleSocket) {
        const terminal = Duplex.from({ readable: session.stdout, writable: session.stdin });
        // the pty closing when the process exits is the normal end, not an error
        terminal.on('error', (err: unknown) => { if (errnoCode(err) !== 'ERR_STREAM_PREMATURE_CLOSE') terminal.destroy(); });
        processIo = { kind: 'terminal', terminal, resize: async (cols, rows) => { session.resize(cols, rows); } };
      } else {
        processIo = { kind: 'pipes', stdin: session.stdin, stdout: session.stdout, stderr: session.stderr };
      }
    }
    return { pid, io: processIo, exit };
  }

  async start(id: string, options: TraceOptions = {}): Promise<void> {
    const trace = options.trace ?? silentTimer();
    const record = await this.store.load(id);
    const status = await this.store.status(record);
    if (status !== 'created') throw conflict('CONTAINER_NOT_CREATED', `container ${id} is ${status}, not created`);
    trace.mark('state');
    // in the container's namespaces while its init waits on the exec fifo, just before execve
    await runHooks(record.hooks, 'startContainer', this.store.toState(record, status), { pid: record.pid, namespaces: record.namespaces });
    await this.releaseFifo(record);
    trace.mark('exec');
    await runHooks(record.hooks, 'poststart', this.store.toState(record, 'running')).catch(async (err: unknown) => {
      // runtime.md step 9: generate an error and stop the container (delete destroys it, as runc)
      await this.stopAfterFailedStart(record);
      throw err;
    });
  }

  private async stopAfterFailedStart(record: ContainerRecord): Promise<void> {
    const cgroup = await this.openCgroup(record);
    if (cgroup) await cgroup.killAll('SIGKILL');
    else killQuietly(record.pid, 'SIGKILL');
    for (let i = 0; i < 200 && await pidAlive(record.pid, record.pidStartTime); i++) await sleep(10);
  }

  /** Open the exec fifo for reading: the container's init is blocked writing to it. */
  private async releaseFifo(record: ContainerRecord): Promise<void> {
    const fifo = this.store.fifoPath(record.id);
    try {
      if (!await releaseExecFifo(fifo, async () => await pidAlive(record.pid, record.pidStartTime))) {
        throw conflict('CONTAINER_NOT_CREATED', `container ${record.id} exited before it started`);
      }
    } finally {
      // gone before start returns (its absence is what says 'running'); synchronous as the state store's files
      unlinkIfPresent(fifo);
    }
  }

  async state(id: string): Promise<State> {
    const record = await this.store.load(id);
    return this.store.toState(record, await this.statusOf(record));
  }

  private async statusOf(record: ContainerRecord): Promise<State['status']> {
    const status = await this.store.status(record);
    if (status !== 'running') return status;
    const cgroup = await this.openCgroup(record);
    return cgroup && await cgroup.state() === 'frozen' ? 'paused' : status;
  }

  private async openCgroup(record: ContainerRecord): Promise<CgroupHandle | undefined> {
    try {
      return await (await this.cgroups()).open(record.cgroupsPath);
    } catch (err) {
      if (err instanceof BerthError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  async kill(id: string, signal: string | number, options: KillOptions = {}): Promise<void> {
    const number = signalNumber(signal);
    if (number === undefined) throw invalidArgument('UNKNOWN_SIGNAL', `unknown signal ${JSON.stringify(signal)}`);
    const record = await this.store.load(id);
    const status = await this.store.status(record);
    if (options.all) {
      const cgroup = await this.openCgroup(record);
      if (cgroup) {
        await cgroup.killAll(number);
        return;
      }
      // no cgroup (rootless berthd without delegation): the init is signalled below; its death ends the pid namespace
      if (status === 'stopped') return;
    }
    if (status === 'stopped') throw conflict('CONTAINER_NOT_RUNNING', `container ${id} is not running`);
    try {
      process.kill(record.pid, number);
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err;
    }
  }

  async delete(id: string, options: DeleteOptions = {}): Promise<void> {
    const trace = options.trace ?? silentTimer();
    const record = await this.store.load(id);
    const status = await this.statusOf(record);
    if (status !== 'stopped' && !options.force) {
      throw conflict('CONTAINER_RUNNING', `container ${id} is ${status}: stop it first or use --force`);
    }
    const cgroup = await this.openCgroup(record);
    trace.mark('state');
    if (status !== 'stopped') {
      if (cgroup) await cgroup.killAll('SIGKILL');
      else process.kill(record.pid, 'SIGKILL');
      if (status === 'paused' && cgroup) await cgroup.thaw();
    }
    for (let i = 0; i < 200 && await pidAlive(record.pid, record.pidStartTime); i++) await sleep(10);
    trace.mark('kill');
    if (cgroup) await cgroup.destroy();
    if (record.cgroupsPathDefaulted) await this.removeDefaultParentIfEmpty();
    trace.mark('cgroup');
    // a shim of ours writes the exit file after reporting the exit: gone before its directory goes
    const shim = this.shims.get(id);
    this.shims.delete(id);
    if (shim) await settledWithin(shim, SHIM_EXIT_WAIT_MS);
    await this.store.remove(id);
    trace.mark('state-remove');
    await runHooksWarning(record.hooks, 'poststop', this.store.toState(record, 'stopped'), options.warn ?? ((message) => { process.emitWarning(message); }));
  }

  /**
   * The parent this runtime made for specs without a cgroupsPath goes with its last container,
   * as runc leaves nothing behind; rmdir fails while another container is in it, and a create
   * racing this rmdir makes the parent again (makeDirectories).
   */
  private async removeDefaultParentIfEmpty(): Promise<void> {
    const dirs = await (await this.cgroups()).directoriesOf(DEFAULT_CGROUP_PARENT).catch(() => ({}));
    await Promise.all(Object.values(dirs).map((dir) => rmdir(dir).catch(() => undefined)));
  }

  async exec(id: string, proc: Process, io: IoOptions = {}): Promise<ProcessHandle> {
    const record = await this.store.load(id);
    const status = await this.statusOf(record);
    if (status !== 'running' && status !== 'created') throw conflict('CONTAINER_NOT_RUNNING', `cannot exec in container ${id}: it is ${status}`);
    const spec = await loadBundleSpec(record.bundle).catch(() => undefined);
    const plan: PlanOp[] = buildExecPlan(proc, {
      initPid: record.pid, namespaces: record.namespaces.filter((type) => type !== 'time'),
      consoleSocket: io.consoleSocket, relayTerminal: relaysTerminal(io),
      seccompProgram: this.compileSeccomp(spec?.linux?.seccomp), inherit: io.inherit,
    });
    const session = startHelper(plan, { stdio: io.stdio ?? 'pipe', detached: io.detach ?? false, executable: this.helper() });
    return await withCleanup(async () => {
      const pid = await session.pid;
      const cgroup = await this.openCgroup(record);
      if (cgroup) await cgroup.addProcess(pid);
      session.go();
      await session.ready;
      if (io.pidFile) await writeFile(io.pidFile, String(pid));
      return this.handleFor(session, pid, proc, io);
    }, async () => {
      session.kill('SIGKILL');
      await session.exit.catch(() => undefined);
    });
  }

  async pause(id: string): Promise<void> {
    const cgroup = await this.runningCgroup(id, 'pause');
    await cgroup.freeze();
  }

  async resume(id: string): Promise<void> {
    const cgroup = await this.runningCgroup(id, 'resume');
    await cgroup.thaw();
  }

  private async runningCgroup(id: string, verb: string): Promise<CgroupHandle> {
    const record = await this.store.load(id);
    const status = await this.store.status(record);
    if (status !== 'running') throw conflict('CONTAINER_NOT_RUNNING', `cannot ${verb} container ${id}: it is ${status}`);
    const cgroup = await this.openCgroup(record);
    if (!cgroup) {
      throw new BerthError('internal', 'CGROUP_MISSING', `cannot ${verb} container ${id}: it has no cgroup (${record.cgroupsPath} is gone, or berthd is rootless without a delegated cgroup v2 subtree)`);
    }
    return cgroup;
  }

  async ps(id: string): Promise<ContainerProcessInfo[]> {
    const record = await this.store.load(id);
    const cgroup = await this.openCgroup(record);
    // no cgroup (rootless berthd without delegation): the init and its descendants
    const pids = cgroup ? await cgroup.pids() : await processTree(record.pid);
    const infos: ContainerProcessInfo[] = [];
    for (const pid of pids) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      infos.push({ pid, args: cmdline.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1) });
    }
    return infos;
  }

  async list(): Promise<State[]> {
    const states: State[] = [];
    for (const id of await this.store.ids()) {
      try {
        states.push(await this.state(id));
      } catch (err) {
        if (!(err instanceof BerthError && err.kind === 'not_found')) throw err;
      }
    }
    return states;
  }
}

/** A process and its descendants, from /proc/PID/task/TID/children (empty when it is gone). */
async function processTree(root: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift() as number;
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    if (tasks.length === 0) continue;
    out.push(pid);
    for (const tid of tasks) {
      const children = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
      queue.push(...children.split(' ').filter(Boolean).map(Number));
    }
  }
  return out;
}

export async function loadBundleSpec(bundle: string): Promise<Spec> {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    // a few KB read whole: synchronously, without four thread pool round trips (open, stat, read, close)
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw invalidArgument('BUNDLE_INVALID', `no config.json in bundle ${bundle}`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalidArgument('INVALID_RUNTIME_SPEC', `${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseRuntimeSpec(json, file);
}

async function checkRootfs(bundle: string, spec: Spec): Promise<string> {
  if (!spec.root) throw invalidArgument('NO_ROOT', 'root: config.json names no root filesystem');
  const rootfs = path.resolve(bundle, spec.root.path);
  let st;
  try {
    st = statSync(rootfs, { throwIfNoEntry: false });
  } catch {
    st = undefined; // ENOTDIR, EACCES...: not a usable rootfs either
  }
  if (!st?.isDirectory()) throw invalidArgument('ROOTFS_MISSING', `root.path: rootfs ${rootfs} does not exist or is not a directory`);
  return rootfs;
}

/** The clone makes a new network namespace outside any new user namespace (helper-pool.ts: what a warm helper can prepare). */
function makesNetworkNamespace(spec: Spec): boolean {
  const namespaces = spec.linux?.namespaces ?? [];
  return namespaces.some((ns) => ns.type === 'network' && !ns.path) && !namespaces.some((ns) => ns.type === 'user');
}

/** the shim relays a terminal to its stdio when that is ours (pipes) or the caller's fds */
function relaysTerminal(io: IoOptions): boolean {
  return (io.stdio ?? 'pipe') === 'pipe' || Array.isArray(io.stdio);
}

/** one unlink (rmSync's force path lstats first) */
function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals | number): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}

/** The device nodes every container gets (as runc allows them), after the spec's own rules. */
const DEFAULT_DEVICE_RULES: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' }, { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map(([major, minor]) =>
    ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
];

function withDefaultDevices(spec: Spec): LinuxResources | undefined {
  const resources = spec.linux?.resources;
  if (!resources?.devices) return resources;
  // fifos need no device rule; the cgroup only knows character and block devices
  const specDevices: LinuxDeviceCgroup[] = (spec.linux?.devices ?? []).filter((d) => d.type !== 'p').map((d) =>
    ({ allow: true, type: d.type === 'u' ? 'c' : d.type, major: d.major ?? null, minor: d.minor ?? null, access: 'rwm' }));
  return { ...resources, devices: [...resources.devices, ...DEFAULT_DEVICE_RULES, ...specDevices] };
}

/** Where a pid is written to join the cgroup: cgroup.procs in each of its directories (one per v1 hierarchy). */
function cgroupProcsFiles(cgroup: CgroupHandle): string[] {
  return [...new Set(Object.values(cgroup.directories))].map((dir) => path.join(dir, 'cgroup.procs'));
}

async function writeIdMappings(spec: Spec, pid: number): Promise<void> {
  const format = (maps: Array<{ containerID: number; hostID: number; size: number }> | undefined): string =>
    (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  try {
    await writeFile(`/proc/${pid}/uid_map`, format(spec.linux?.uidMappings));
    await writeFile(`/proc/${pid}/gid_map`, format(spec.linux?.gidMappings));
  } catch (cause) {
    throw invalidArgument('INVALID_ID_MAPPING', `linux.uidMappings/gidMappings: the kernel refused them (${errnoCode(cause) ?? 'error'})`, { cause });
  }
}
