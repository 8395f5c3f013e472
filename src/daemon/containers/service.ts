// The container service: create, start, stop, kill, restart, pause, wait, remove, rename,
// update over the OCI runtime, with state persisted atomically and recovered at startup.
// Queries (inspect, list), I/O (logs, attach), exec, archive and stats live beside it.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, conflict, invalidArgument, isBerthError } from '../../errors/berth-error.js';
import type { ExitStatus } from '../../runtime/runtime.js';
import type { EventBus } from '../events/event-bus.js';
import { checkCreateRequest, newRecord } from './create.js';
import { hostConfigSchema, type CreateRequest, type UpdateRequest } from './create-request.js';
import { KeyedLock } from './keyed-lock.js';
import { DEFAULT_LOG_OPTIONS, parseLogOptions, type LogOptions } from './logs/json-file.js';
import type { Monitor, MonitoredProcess } from './monitor.js';
import { randomName } from './names.js';
import type { CgroupAccess, ContainerRootfs, ImageLookup, RuntimeSet, SandboxProvider } from './ports.js';
import { exitedState, runningState, shortId, ZERO_TIME, type ContainerRecord } from './record.js';
import { checkResources, toLinuxResources } from './resources.js';
import { fitResources, updatedResources, withDockerdDefaults, type ResourceSupport } from './resource-fit.js';
import type { VolumeOf } from './queries.js';
import { resolveLinks } from './links.js';
import { prepareBundle, writeBundleSpec, type BundleOptions } from './bundle.js';
import { ContainerStore } from './store.js';
import { recoverContainers } from './recovery.js';
import { RunControl } from './run-control.js';
import { deleteRuntimeContainer, releaseRun, type RunCleanupOptions } from './run-cleanup.js';
import { PhaseTimer, formatPhase } from '../../util/phase-timer.js';
import { removeTree } from '../../util/remove-tree.js';
import { DEFAULT_SHM_SIZE } from './oci-defaults.js';
import { mountShareableShm, shmPath } from './shm-mount.js';
import { checkUserNamespace, type UserNamespaces } from './user-namespace.js';
import { namespaceDonors, resolveSharedNamespaces, type DonorInfo } from './namespace-modes.js';
import { healthProbeOf } from './health/config.js';
import { watchOomIfPossible } from './oom-watch.js';
import { ImageUserDatabases } from './user.js';
import { healthAtStart, type HealthState } from './health/state.js';
import { cancelIdleUnmount, newLive, nextExit, scheduleIdleUnmount, stopOomWatch, stoppedState, type Live, type RunWatcher, type WaitCondition, type WaitResult } from './live.js';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ContainerServiceDeps {
  dataRoot: string;
  execRoot: string;
  images: ImageLookup;
  rootfs: ContainerRootfs;
  runtimes: RuntimeSet;
  monitor: Monitor;
  events: EventBus;
  log: Logger;
  networks?: SandboxProvider;
  cgroups?: CgroupAccess;
  bundle: Omit<BundleOptions, 'cgroupsPath'>;
  /** --cgroup-parent: containers live in <parent>/<id> */
  cgroupParent: string;
  /** daemon-wide log-opts (daemon.json) */
  logOptions?: LogOptions;
  /** warnings for limits this daemon cannot apply (rootless berthd without a delegated cgroup) */
  resourceWarnings?: (hostConfig: object) => string[];
  /** --userns=auto|remap and --userns-remap (daemon/userns); absent: every container in the host's */
  userns?: UserNamespaces;
  /** the limits the host's cgroups can apply (others are dropped with dockerd's warning); absent: all */
  resourceSupport?: ResourceSupport;
  /** at create: make the volumes the container names (dockerd does then) */
  createVolumes?: (record: ContainerRecord) => Promise<void>;
  /** inspect's Mounts: a volume's name (generated for anonymous ones) and host path */
  volumeOf?: VolumeOf;
  /** an --rm container's anonymous volumes go with it (docker removes it as rm -v does) */
  removeAnonymousVolumes?: (containerId: string) => Promise<void>;
}


export type { RunWatcher, WaitCondition, WaitResult } from './live.js';

export class ContainerService {
  readonly store: ContainerStore;
  private readonly live = new Map<string, Live>();
  /** /etc/passwd and /etc/group of each image, for the first start of its containers */
  private readonly userDatabases = new ImageUserDatabases();
  private readonly lock = new KeyedLock();
  private readonly watchers: RunWatcher[] = [];
  private shuttingDown = false;
  /** --rm roots still being unmounted and deleted after their container was removed */
  private readonly teardowns = new Set<Promise<void>>();

  /** stop, restart, kill, pause, unpause (run-control.ts) */
  private readonly control: RunControl;

  constructor(readonly deps: ContainerServiceDeps) {
    this.store = new ContainerStore(path.join(deps.dataRoot, 'containers'));
    this.control = new RunControl({
      store: this.store, lock: this.lock, runtimes: deps.runtimes, runningProcess: (id) => this.runningProcess(id),
      emit: (record, action, extra) => this.emit(record, action, extra), cancelRestart: (id) => this.cancelRestart(id),
      startLocked: (record) => this.startLocked(record),
    });
  }

  // ---- create / remove / rename / update ------------------------------------------

  async create(request: CreateRequest, name: string | undefined): Promise<{ Id: string; Warnings: string[] }> {
    const fitted = fitResources(hostConfigSchema.parse(request.HostConfig ?? {}), this.deps.resourceSupport);
    const host = withDockerdDefaults(fitted.resources, DEFAULT_SHM_SIZE);
    checkCreateRequest(request, host, this.deps.runtimes.names());
    // --pid/--ipc container:X naming a container that does not exist fails before anything is made
    for (const donor of namespaceDonors(host)) {
      // 400, not 404: the docker CLI takes a 404 on create for a missing image and pulls
      if (!this.donorInfo(donor.target)) throw invalidArgument('NO_SUCH_CONTAINER', `cannot join the ${donor.flag} namespace of container ${donor.target}: No such container: ${donor.target}`);
    }
    const image = await this.deps.images.resolve(request.Image as string);
    const id = randomBytes(32).toString('hex');
    const trace = this.timer(id, 'create');
    const fullName = `/${name ?? randomName((n) => this.store.hasName(n))}`;
    this.store.reserveName(fullName, id);
    try {
      const record = newRecord(id, fullName, request, host, image, { defaultRuntime: this.deps.runtimes.defaultName, cgroupParent: this.deps.cgroupParent });
      const idmap = await this.deps.userns?.allocate(id, host);
      if (idmap) await checkUserNamespace(host, idmap);
      // its volumes exist from now on, as under dockerd (a bad volume name fails the create)
      await this.deps.createVolumes?.(record);
      // an --rm container is removed when its run ends, and at the next daemon start if it
      // was running (recover): a power loss that takes its unsynced record (or its root's, which
      // the snapshotter's sweep then removes) takes nothing anyone will look for; the renames
      // still keep a kill -9 from leaving half a file
      const durable = record.HostConfig.AutoRemove !== true;
      // the root is mounted while the client goes on (docker run: attach, wait, start), as
      // dockerd mounts at start: start and every other use of the root wait for it (rootSettled),
      // and a failed mount is tried again, and reported, by the start. It stays mounted for
      // that start; a container left created has it unmounted after a while (unmountIdleRoot).
      // Root and record are independent (a crash between them leaves a root without a record,
      // which the start-up sweep removes, or a record whose root start mounts)
      const live = this.liveOf(id);
      live.rootPristine = true;   // a new root: its image's files until a run or docker cp writes
      const mounting = trace.time('snapshot', () => this.deps.rootfs.mount(id, image.id, idmap, { durable })).then((root) => {
        live.mountedRoot = root;
      }, (err: unknown) => this.deps.log.debug(`mounting the root of ${shortId(id)} at create: ${String(err)}`))
        .finally(() => { if (live.rootMounting === mounting) live.rootMounting = undefined; });
      live.rootMounting = mounting;
      try {
        await trace.time('record', async () => {
          const saved = this.store.add(record, { durable });
          if (durable) {
            await saved;
            return;
          }
          // an --rm container's create answers at once: its directory and unsynced record land
          // in order before any later write or the removal (the store queues them; start waits
          // for them), and one a kill -9 cut short is a root without a record, which the
          // start-up sweep removes
          saved.catch((err: unknown) => this.deps.log.warn(`recording the create of ${shortId(id)}: ${String(err)}`));
        });
      } catch (err) {
        await mounting;
        throw err;
      }
      trace.total();
      scheduleIdleUnmount(live, () => { void this.unmountIdleRoot(id); });
      this.emit(record, 'create');
      return { Id: id, Warnings: [...fitted.warnings, ...this.deps.resourceWarnings?.(host) ?? []] };
    } catch (err) {
      this.store.releaseName(fullName, id);
      await this.deps.rootfs.remove(id).catch(() => undefined);
      await rm(this.store.dir(id), { recursive: true, force: true });
      await this.deps.userns?.release(id).catch(() => undefined);
      throw err;
    }
  }

  async remove(idOrName: string, options: { force?: boolean } = {}): Promise<void> {
    const record = this.store.resolve(idOrName);
    await this.lock.run(record.Id, async () => {
      const current = this.store.get(record.Id);
      if (!current) return;
      if (current.State.Running || current.State.Restarting) {
        if (!options.force) {
          throw conflict('CONTAINER_RUNNING', `cannot remove container "${current.Name}": container is running: stop the container before removing or force remove`);
        }
        this.cancelRestart(current.Id);
        this.emit(current, 'kill', { signal: '9' });
        await this.control.killAndWait(current, 'SIGKILL', 10_000);
        // the exit handler will find no record: release the run's resources here, and tell what
        // it would have told (dockerd: kill, die, destroy; a `docker wait` gets the exit)
        const live = this.live.get(current.Id);
        if (live) live.process = undefined;
        await this.cleanupRun(current);
        this.emit(current, 'die', { exitCode: '137' });
        live?.exits.emit('exit', 137, '');
      }
      await this.destroy(current);
    });
  }

  /**
   * Remove a container. With deferRoot (an --rm run that ended) the container is gone from the
   * API once its record and bundle are, and its root (unmount, delete) and id range are released
   * right after, off the critical path of wait?condition=removed (with deleteRuntime the
   * runtime's container too, before the root); shutdown() waits for them, and what a crash cuts
   * short is swept at the next start.
   */
  private async destroy(record: ContainerRecord, options: { deferRoot?: boolean; deleteRuntime?: boolean } = {}): Promise<void> {
    const live = this.live.get(record.Id);
    this.cancelRestart(record.Id);
    cancelIdleUnmount(this.live.get(record.Id));
    this.runEnded(record.Id);
    // independent trees: removed side by side. Whatever a crash leaves of them is found at
    // the next start (a record without its root is an exited container to remove again,
    // a root without a record is swept, so is an id range without a record)
    const releaseRoot = async (): Promise<void> => {
      // the runtime's container first: the root is unmounted once nothing runs on it
      if (options.deleteRuntime) await deleteRuntimeContainer(this.deps.runtimes, record, (message) => this.deps.log.warn(message));
      await live?.rootMounting;
      await this.deps.rootfs.remove(record.Id);
      await this.deps.userns?.release(record.Id);
    };
    const removeBundle = (): Promise<void> => removeTree(this.bundleDir(record.Id));
    // deferred, the record's directory is renamed away (its deletion follows) and the bundle
    // goes with the root: recover() sweeps the bundles of containers that do not exist
    const purges: Array<Promise<void>> = [];
    const removals = await Promise.allSettled([
      ...(options.deferRoot ? [] : [releaseRoot(), removeBundle()]),
      this.store.remove(record, options.deferRoot ? { purgeLater: (purge) => purges.push(purge) } : {}),
    ]);
    const failed = removals.find((r) => r.status === 'rejected');
    const teardown = async (): Promise<void> => {
      await Promise.all([releaseRoot(), removeBundle(), ...purges]);
    };
    if (failed) {
      if (options.deferRoot) await teardown().catch(() => undefined);
      throw failed.reason;
    }
    if (options.deferRoot) this.track(teardown().catch((err: unknown) => this.deps.log.warn(`removing the root of ${shortId(record.Id)}: ${String(err)}`)));
    if (record.HostConfig.AutoRemove === true) {
      await this.deps.removeAnonymousVolumes?.(record.Id).catch((err: unknown) => this.deps.log.warn(`removing the volumes of ${shortId(record.Id)}: ${String(err)}`));
    }
    this.emit(record, 'destroy');
    live?.exits.emit('removed', record.State.ExitCode, record.State.Error);
    this.live.delete(record.Id);
  }

  private track(teardown: Promise<void>): void {
    this.teardowns.add(teardown);
    void teardown.finally(() => this.teardowns.delete(teardown));
  }

  /** Resolves once no removed container's root is still being released. */
  async teardownsDone(): Promise<void> {
    while (this.teardowns.size > 0) await Promise.allSettled([...this.teardowns]);
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const record = this.store.resolve(idOrName);
    const full = newName.startsWith('/') ? newName : `/${newName}`;
    if (full === record.Name) throw conflict('SAME_NAME', `Renaming a container with the same name as its current name`);
    this.store.reserveName(full, record.Id);
    const oldName = record.Name;
    try {
      await this.store.save({ ...record, Name: full });
    } catch (err) {
      this.store.releaseName(full, record.Id);
      throw err;
    }
    this.store.releaseName(oldName, record.Id);
    this.emit({ ...record, Name: full }, 'rename', { oldName });
  }

  async update(idOrName: string, request: UpdateRequest): Promise<{ Warnings: string[] }> {
    const record = this.store.resolve(idOrName);
    return await this.lock.run(record.Id, async () => {
      const current = this.store.resolve(record.Id);
      const { RestartPolicy, ...asked } = request;
      const { host, resources, applied, warnings } = updatedResources(current, asked, this.deps.resourceSupport);
      if (RestartPolicy) {
        if (host.AutoRemove && RestartPolicy.Name && RestartPolicy.Name !== 'no') {
          throw invalidArgument('AUTOREMOVE_CONFLICT', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
        }
        host.RestartPolicy = { Name: RestartPolicy.Name || 'no', MaximumRetryCount: RestartPolicy.MaximumRetryCount ?? 0 };
      }
      checkResources(host);
      if (current.State.Running && this.deps.cgroups) await this.deps.cgroups.update(current.CgroupsPath, toLinuxResources(applied));
      await this.store.save({ ...current, HostConfig: host });
      this.emit(current, 'update');
      return { Warnings: [...warnings, ...this.deps.resourceWarnings?.(resources) ?? []] };
    });
  }

  // ---- lifecycle -------------------------------------------------------------------

  async start(idOrName: string): Promise<void> {
    const record = this.store.resolve(idOrName);
    await this.lock.run(record.Id, async () => {
      const current = this.store.resolve(record.Id);
      if (this.shuttingDown) throw new BerthError('unavailable', 'SHUTTING_DOWN', 'the daemon is shutting down');
      if (current.State.Paused) throw conflict('CONTAINER_PAUSED', 'cannot start a paused container, try unpause instead');
      if (current.State.Running) throw new BerthError('not_modified', 'ALREADY_STARTED', `container ${current.Id} is already running`);
      this.cancelRestart(current.Id);
      try {
        await this.startLocked({ ...current, ManuallyStopped: false });
      } catch (err) {
        // docker removes an --rm container that failed to start (the CLI waits for that)
        const failed = this.store.get(current.Id);
        if (failed?.HostConfig.AutoRemove) await this.destroy(failed).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Runs work on the current record under the container's lock (network connect/disconnect). */
  async withRecord<T>(idOrName: string, work: (record: ContainerRecord) => Promise<T>): Promise<T> {
    const id = this.store.resolve(idOrName).Id;
    return await this.lock.run(id, async () => await work(this.store.resolve(id)));
  }

  private async startLocked(record: ContainerRecord): Promise<void> {
    const live = this.liveOf(record.Id);
    cancelIdleUnmount(this.live.get(record.Id));
    const logOptions = parseLogOptions(record.HostConfig.LogConfig?.Config, this.deps.logOptions ?? DEFAULT_LOG_OPTIONS);
    const runtime = this.deps.runtimes.get(record.Runtime);
    const bundleDir = this.bundleDir(record.Id);
    const trace = this.timer(record.Id, 'start');
    let process: MonitoredProcess;
    try {
      // the directory an --rm create did not wait for (the /etc files and the log go there)
      await this.store.written(record.Id);
      const shared = resolveSharedNamespaces(record.HostConfig, (target) => this.donorInfo(target));
      if (record.HostConfig.IpcMode === 'shareable') {
        shared.shmSource = await mountShareableShm(this.store.dir(record.Id), record.HostConfig.ShmSize || DEFAULT_SHM_SIZE);
      }
      // a leftover of a crashed run would make create fail; a container that never tried to
      // run has none (every runtime container is swept when berthd starts)
      const triedBefore = record.State.Status !== 'created' || record.State.FinishedAt !== ZERO_TIME;
      if (triedBefore) await runtime.delete(record.Id, { force: true }).catch(() => undefined);
      trace.mark('leftover-check');
      const idmap = this.deps.userns?.mapsOf(record.Id);
      // mounted by the create just before (docker run), else now
      await this.rootSettled(record.Id);
      const rootfs = live.mountedRoot ?? await this.deps.rootfs.mount(record.Id, record.Image, idmap);
      live.mountedRoot = rootfs;
      trace.mark('rootfs-mount');
      const links = (record.HostConfig.Links ?? []).length > 0
        ? resolveLinks(record, (ref) => this.store.resolve(ref), (id) => this.deps.networks?.sandbox(id)?.settings) : undefined;
      // the built-in runtime takes the spec from memory: config.json is written while it creates
      // the container (exec reads it, so the start answers once it is written); runc and crun read it
      const specFromMemory = runtime.takesSpecInMemory;
      // a root its create made and nothing wrote to since holds its image's user database
      const pristine = live.rootPristine;
      live.rootPristine = false;
      const spec = await prepareBundle(bundleDir, rootfs, record, this.store.dir(record.Id), {
        ...this.deps.bundle, cgroupsPath: record.CgroupsPath, shared, links, ...(idmap ? { idmap } : {}), specWrittenByCaller: specFromMemory,
        readUsers: (root) => this.userDatabases.read(record.Image, root, pristine),
      }, this.deps.networks, trace.child('bundle.'));
      trace.reset();
      const specWritten = specFromMemory ? writeBundleSpec(bundleDir, spec) : Promise.resolve();
      // awaited below; a failed start must not leave it unhandled meanwhile
      specWritten.catch(() => undefined);
      process = await this.deps.monitor.start({
        id: record.Id, bundleDir, runtime, tty: record.Config.Tty === true, openStdin: record.Config.OpenStdin === true,
        logFile: this.logPath(record.Id), logOptions, trace, spec,
      }, live.hub);
      trace.reset();
      await specWritten;
    } catch (err) {
      await this.cleanupRun(record);
      const message = err instanceof Error ? err.message : String(err);
      await this.store.save({ ...record, State: { ...exitedState(record.State, 128, message), Status: record.State.Status === 'created' ? 'created' : 'exited' } });
      throw err instanceof BerthError ? err : new BerthError('internal', 'START_FAILED', `failed to start container ${shortId(record.Id)}: ${message}`, { cause: err });
    }
    live.process = process;
    live.startedAtMs = Date.now();
    live.oomReported = 0;
    // `oom` events at the moment of the kill (dockerd's timing), where the cgroup can be watched
    live.oomWatch = watchOomIfPossible(async () => await this.deps.cgroups?.oomSource?.(record.CgroupsPath), () => {
      live.oomReported++;
      this.emit(this.store.get(record.Id) ?? record, 'oom');
    }, (reason) => this.deps.log.debug(`no OOM watch for ${shortId(record.Id)}: ${reason}`));
    const state = runningState(record.State, process.pid);
    // each run's checks start from "starting" (also after a daemon restart)
    const running = { ...record, State: healthProbeOf(record.Config) ? { ...state, Health: healthAtStart(record.State.Health) } : state };
    // the start answers without waiting for the running state to reach the disk: the store
    // writes it in order with the container's later changes (the exit's, the removal). A kill -9
    // in the few ms before it lands leaves the record of a created container (the start-up
    // sweep of the runtime's state kills its process). An --rm container's running state is
    // not written at all: its record goes with its run, and after a crash recover() knows a
    // started one by its runtime state (kept until the record is removed) and removes it
    if (record.HostConfig.AutoRemove === true) this.store.remember(running);
    else void this.store.save(running, { durable: false }).catch((err: unknown) =>
      this.deps.log.warn(`recording the start of ${shortId(record.Id)}: ${String(err)}`));
    trace.total();
    this.emit(running, 'start');
    for (const watcher of this.watchers) watcher.runStarted(running);
    void process.exit.then((status) => this.onExit(record.Id, process, status));
  }

  /** A container named by --pid/--ipc container:X: its init pid while it runs. */
  private donorInfo(target: string): DonorInfo | undefined {
    let donor: ContainerRecord;
    try {
      donor = this.store.resolve(target);
    } catch (err) {
      if (isBerthError(err, 'not_found')) return undefined;
      throw err;
    }
    const running = donor.State.Running && !donor.State.Paused ? donor.State.Pid : undefined;
    return { id: donor.Id, pid: running, ipcMode: donor.HostConfig.IpcMode, shmPath: shmPath(this.store.dir(donor.Id)) };
  }

  /** The process ended: release its resources, record the exit, maybe restart or remove. */
  private async onExit(id: string, process: MonitoredProcess, status: ExitStatus): Promise<void> {
    await this.lock.run(id, async () => {
      const live = this.live.get(id);
      const record = this.store.get(id);
      if (!live || live.process !== process || !record) return;
      live.process = undefined;
      this.runEnded(id);
      const trace = this.timer(id, 'exit');
      // the OOM counter lives in the cgroup, which the runtime's delete removes
      const oomKilled = await this.oomKilled(record);
      trace.mark('oom-check');
      // an --rm container goes at once: its root is unmounted by the removal, and its exited
      // state is not written (kill -9 before the removal: recover removes it at the next start)
      const removeNow = record.HostConfig.AutoRemove === true && !this.shuttingDown;
      // and its runtime delete (leftover processes, cgroup, state) follows the removal with the
      // root, off wait?condition=removed's path; its network (ports, addresses) is released
      // before. A shareable /dev/shm is unmounted as before, in the record's directory
      const runtimeLater = removeNow && record.HostConfig.IpcMode !== 'shareable';
      await this.cleanupRun(record, trace, { keepRootMounted: removeNow, networkOnly: runtimeLater });
      trace.reset();
      const exited: ContainerRecord = { ...record, State: stoppedState(record.State, status.exitCode, '', oomKilled) };
      if (removeNow) this.store.remember(exited);
      else await this.store.save(exited, { durable: false });
      trace.mark('record');
      // the watch reports kills as they happen; this is for a kill it could not see
      if (oomKilled && live.oomReported === 0) this.emit(exited, 'oom');
      this.emit(exited, 'die', { exitCode: String(status.exitCode) });
      live.exits.emit('exit', status.exitCode, '');
      if (this.shuttingDown) return;
      const decision = live.restart.decide(record.HostConfig.RestartPolicy, status.exitCode, record.ManuallyStopped,
        Date.now() - live.startedAtMs, record.RestartCount);
      if (decision.restart) {
        await this.store.save({ ...exited, State: { ...exited.State, Status: 'restarting', Restarting: true } });
        live.restartTimer = setTimeout(() => { void this.restartAfterBackoff(id); }, decision.delayMs);
      } else if (removeNow) {
        await this.destroy(exited, { deferRoot: true, deleteRuntime: runtimeLater }).catch(async (err: unknown) => {
          this.deps.log.warn(`auto-remove of ${shortId(id)}: ${String(err)}`);
          if (this.store.get(id)) await this.store.save(exited, { durable: false }).catch(() => undefined);
        });
        trace.mark('auto-remove');
      }
      trace.total();
    });
  }

  private async restartAfterBackoff(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      const live = this.live.get(id);
      const record = this.store.get(id);
      if (!live || !record || !record.State.Restarting) return;
      live.restartTimer = undefined;
      try {
        await this.startLocked({ ...record, RestartCount: record.RestartCount + 1 });
      } catch (err) {
        this.deps.log.warn(`restart of ${shortId(id)} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  /** Did the kernel's OOM killer kill a process of this run (the cgroup's oom_kill counter)? */
  private async oomKilled(record: ContainerRecord): Promise<boolean> {
    // through the run's OOM watch where there is one (its file is open), else from the cgroup
    const watch = await this.live.get(record.Id)?.oomWatch;
    const watched = watch ? await watch.killCount().catch(() => undefined) : undefined;
    const count = watched ?? await this.deps.cgroups?.oomKills?.(record.CgroupsPath).catch(() => 0);
    return (count ?? 0) > 0;
  }

  private runEnded(id: string): void {
    for (const watcher of this.watchers) watcher.runEnded(id);
  }

  addRunWatcher(watcher: RunWatcher): void {
    this.watchers.push(watcher);
  }

  /**
   * Change State.Health under the container's lock while the run that started at
   * `startedAt` lasts; the saved record, or undefined when that run is over.
   */
  async updateHealth(id: string, startedAt: string, change: (health: HealthState) => HealthState): Promise<ContainerRecord | undefined> {
    return await this.lock.run(id, async () => {
      const current = this.store.get(id);
      if (!current || !current.State.Running || current.State.StartedAt !== startedAt) return undefined;
      const updated = { ...current, State: { ...current.State, Health: change(current.State.Health ?? healthAtStart(undefined)) } };
      await this.store.save(updated);
      return updated;
    });
  }

  /** The root of a container that was created and not started since: a mount less on the host. */
  private async unmountIdleRoot(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      const live = this.live.get(id);
      if (live) live.idleUnmount = undefined;
      const record = this.store.get(id);
      if (!record || record.State.Running || record.State.Restarting || live?.process) return;
      await this.unmountRoot(id).catch((err: unknown) => this.deps.log.warn(`unmounting the root of ${shortId(id)}: ${String(err)}`));
    });
  }

  private cancelRestart(id: string): void {
    const live = this.live.get(id);
    if (live?.restartTimer) {
      clearTimeout(live.restartTimer);
      live.restartTimer = undefined;
    }
  }

  /** Release what a run held (run-cleanup.ts), its OOM watch first. */
  private async cleanupRun(record: ContainerRecord, trace?: PhaseTimer, options: RunCleanupOptions = {}): Promise<void> {
    await stopOomWatch(this.live.get(record.Id));
    await releaseRun({
      runtimes: this.deps.runtimes, networks: this.deps.networks, warn: (message) => this.deps.log.warn(message),
      unmountRoot: (id) => this.unmountRoot(id), containerDir: (id) => this.store.dir(id),
    }, record, trace, options);
  }

  /** Phases of one operation on a container, one debug line each (berthd --log-level debug). */
  private timer(id: string, operation: string): PhaseTimer {
    return new PhaseTimer((phase, ms) => this.deps.log.debug(`container ${shortId(id)} ${operation}: ${formatPhase(phase, ms)}`));
  }

  async stop(idOrName: string, options: { signal?: string; timeoutSeconds?: number } = {}): Promise<void> {
    await this.control.stop(idOrName, options);
  }

  async restart(idOrName: string, options: { signal?: string; timeoutSeconds?: number } = {}): Promise<void> {
    await this.control.restart(idOrName, options);
  }

  async kill(idOrName: string, signalName: string | undefined): Promise<void> {
    await this.control.kill(idOrName, signalName);
  }

  async pause(idOrName: string): Promise<void> {
    await this.control.pause(idOrName);
  }

  async unpause(idOrName: string): Promise<void> {
    await this.control.unpause(idOrName);
  }

  /** Resolve the wait condition; `signal` ends the wait when the client goes away. */
  async wait(idOrName: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const record = this.store.resolve(idOrName);
    const live = this.liveOf(record.Id);
    if (condition === 'not-running' && !record.State.Running && !record.State.Restarting) {
      return { StatusCode: record.State.ExitCode, Error: null };
    }
    return await nextExit(live, condition, signal);
  }

  // ---- helpers for the other container modules -------------------------------------

  liveOf(id: string): Live {
    let live = this.live.get(id);
    if (!live) {
      live = newLive();
      this.live.set(id, live);
    }
    return live;
  }

  /** Whether this service holds the container's root mounted (a created one waiting for its start, or running). */
  holdsRootMount(id: string): boolean {
    const live = this.live.get(id);
    return live?.mountedRoot !== undefined || live?.rootMounting !== undefined;
  }

  /** Something is about to write into the container's root (docker cp into it). */
  rootWritten(id: string): void {
    const live = this.live.get(id);
    if (live) live.rootPristine = false;
  }

  /** Resolves once the root its create began to mount is mounted (or failed to be). */
  async rootSettled(id: string): Promise<void> {
    await this.live.get(id)?.rootMounting;
  }

  /** Unmount a container's root (forgetting it is mounted first: a failed unmount means mount again). */
  async unmountRoot(id: string): Promise<void> {
    await this.rootSettled(id);
    const live = this.live.get(id);
    if (live) live.mountedRoot = undefined;
    await this.deps.rootfs.unmount(id);
  }

  runningProcess(id: string): MonitoredProcess | undefined {
    return this.live.get(id)?.process;
  }

  bundleDir(id: string): string {
    return path.join(this.deps.execRoot, 'containers', id);
  }

  logPath(id: string): string {
    return path.join(this.store.dir(id), `${id}-json.log`);
  }

  emit(record: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.publish('container', action, record.Id, {
      ...(record.Config.Labels ?? {}), image: record.Config.Image ?? record.Image, name: record.Name.replace(/^\//, ''), ...extra,
    });
  }

  // ---- daemon start and shutdown ---------------------------------------------------

  /** Load records; containers that were running when berthd died are marked exited (recovery.ts). */
  async recover(): Promise<ContainerRecord[]> {
    const wasRunning = await recoverContainers({
      store: this.store, runtimes: this.deps.runtimes, execRoot: this.deps.execRoot, warn: (message) => this.deps.log.warn(message),
      cleanupRun: (record) => this.cleanupRun(record), destroy: (record) => this.destroy(record),
    });
    for (const record of this.store.all()) this.liveOf(record.Id);
    return wasRunning;
  }

  /** Stop every running container with its stop signal and timeout (daemon shutdown). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    // let starts in flight finish, so their containers are stopped below
    await Promise.all(this.store.all().map((record) => this.lock.run(record.Id, async () => undefined)));
    const running = this.store.all().filter((r) => r.State.Running);
    for (const record of this.store.all()) this.cancelRestart(record.Id);
    // roots that creates left mounted for a start that did not come
    await Promise.all([...this.live.entries()].filter(([, live]) => live.idleUnmount !== undefined).map(([id]) => {
      cancelIdleUnmount(this.live.get(id));
      return this.unmountIdleRoot(id);
    }));
    await Promise.all(running.map(async (record) => {
      await this.lock.run(record.Id, () => this.control.stopLocked(record, {})).catch((err: unknown) =>
        this.deps.log.warn(`stopping ${shortId(record.Id)}: ${String(err)}`));
    }));
    // let the exit handlers record the exits
    await Promise.all(running.map((record) => this.lock.run(record.Id, async () => { this.emit(record, 'stop'); })));
    await this.teardownsDone();
  }
}
