// The container service as the API routes see it (server/routes/containers/backend.ts):
// queries, stats, top, archive, export, commit and prune on top of ContainerService.
import type { Readable } from 'node:stream';
import { BerthError, conflict, invalidArgument } from '../../errors/berth-error.js';
import type { ContainerConfig as ImageContainerConfig } from '../../oci/image.js';
import { familiarString, parseNormalizedReference } from '../../oci/reference.js';
import { runProgram } from '../../sys/exec.js';
import { archivePath, changesFromDiff, exportRootfs, extractInto, statPath, type PathStat } from './archive.js';
import { AsyncQueue } from './async-queue.js';
import { applyChanges } from './commit-changes.js';
import type { CreateRequest, UpdateRequest } from './create-request.js';
import { ExecService, type ExecCreateRequest, type StartedExec } from './exec.js';
import { attachContainer, containerLogs, type AttachClient, type AttachRequest, type LogsAnswer, type LogsRequest } from './io.js';
import type { ImageCommitter } from './ports.js';
import { filterContainers, inspectJson, listJson, type Filters } from './queries.js';
import type { ContainerRecord } from './record.js';
import type { ContainerService, WaitCondition, WaitResult } from './service.js';
import { networkStats, statsJson, systemCpuNanos, type StatsSample } from './stats.js';
import type { HealthOnFailure } from './health/config.js';
import { HealthMonitor } from './health/schedule.js';

export class ContainerApi {
  readonly execs: ExecService;
  readonly health: HealthMonitor;

  constructor(private readonly service: ContainerService, private readonly committer: ImageCommitter | undefined,
    /** rm -v: the container's anonymous volumes (the volumes service) */
    private readonly removeAnonymousVolumes?: (containerId: string) => Promise<void>) {
    this.execs = new ExecService(service);
    this.health = new HealthMonitor({
      record: (id) => service.store.get(id),
      probeRunner: (id) => ({ launch: (args) => this.execs.startProbe(id, args), kill: (pid) => process.kill(pid, 'SIGKILL') }),
      updateHealth: (id, startedAt, change) => service.updateHealth(id, startedAt, change),
      emit: (record, action) => service.emit(record, action),
      remediate: (id, action) => remediate(service, id, action),
      warn: (message) => service.deps.log.warn(message),
    });
    service.addRunWatcher(this.health);
  }

  create(body: CreateRequest, name: string | undefined): Promise<{ Id: string; Warnings: string[] }> {
    return this.service.create(body, name);
  }

  async inspect(idOrName: string, _size: boolean): Promise<Record<string, unknown>> {
    const record = this.service.store.resolve(idOrName);
    return inspectJson(record, { logPath: this.service.logPath(record.Id), dir: this.service.store.dir(record.Id),
      networkSettings: this.networkSettings(record), ...(this.service.deps.volumeOf ? { volumeOf: this.service.deps.volumeOf } : {}) });
  }

  async list(options: { all: boolean; limit?: number; size: boolean; filters: Filters }): Promise<Array<Record<string, unknown>>> {
    const ancestors = new Map<string, string>();
    for (const ref of options.filters.get('ancestor') ?? []) {
      const image = await this.service.deps.images.resolve(ref).catch(() => undefined);
      if (image) ancestors.set(ref, image.id);
    }
    const records = filterContainers(this.service.store.all(), {
      all: options.all, ...(options.limit === undefined ? {} : { limit: options.limit }), filters: options.filters,
      resolve: (ref) => this.service.store.resolve(ref), ancestorIds: (ref) => ancestors.get(ref),
    });
    return records.map((r) => listJson(r, this.networkSettings(r)));
  }

  private networkSettings(record: ContainerRecord): object | undefined {
    return record.State.Running ? this.service.deps.networks?.sandbox(record.Id)?.settings : undefined;
  }

  start(id: string): Promise<void> { return this.service.start(id); }
  stop(id: string, options: { signal?: string; timeoutSeconds?: number }): Promise<void> { return this.service.stop(id, options); }
  restart(id: string, options: { signal?: string; timeoutSeconds?: number }): Promise<void> { return this.service.restart(id, options); }
  kill(id: string, signal: string | undefined): Promise<void> { return this.service.kill(id, signal); }
  pause(id: string): Promise<void> { return this.service.pause(id); }
  unpause(id: string): Promise<void> { return this.service.unpause(id); }
  wait(id: string, condition: WaitCondition, signal: AbortSignal): Promise<WaitResult> { return this.service.wait(id, condition, signal); }
  async remove(id: string, options: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    if (options.link) throw invalidArgument('NO_LINKS', 'legacy links are not supported');
    const fullId = this.service.store.resolve(id).Id;
    await this.service.remove(id, { force: options.force });
    if (options.volumes && this.removeAnonymousVolumes) await this.removeAnonymousVolumes(fullId);
  }
  rename(id: string, name: string): Promise<void> { return this.service.rename(id, name); }
  update(id: string, body: UpdateRequest): Promise<{ Warnings: string[] }> { return this.service.update(id, body); }
  logs(id: string, request: LogsRequest, signal: AbortSignal): Promise<LogsAnswer> { return containerLogs(this.service, id, request, signal); }
  isTty(id: string): boolean { return this.service.store.resolve(id).Config.Tty === true; }
  attach(id: string, request: AttachRequest, client: AttachClient, signal: AbortSignal): Promise<void> {
    this.service.emit(this.service.store.resolve(id), 'attach');
    return attachContainer(this.service, id, request, client, signal);
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const record = this.service.store.resolve(id);
    const process = this.service.runningProcess(record.Id);
    if (!process) throw conflict('NOT_RUNNING', `cannot resize container ${record.Id}: container is not running`);
    await process.resize(width, height);
  }

  async top(id: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const record = this.service.store.resolve(id);
    if (!record.State.Running) throw conflict('NOT_RUNNING', `container ${record.Id} is not running`);
    const pids = new Set((await this.service.deps.runtimes.get(record.Runtime).ps(record.Id)).map((p) => String(p.pid)));
    const args = psArgs.split(/\s+/).filter(Boolean);
    const result = await runProgram('ps', args, { allowFailure: true });
    if (result.code !== 0) throw invalidArgument('PS_FAILED', `error running ps ${psArgs}: ${result.stderr.trim()}`);
    const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
    const titles = (lines[0] ?? '').trim().split(/\s+/);
    const pidColumn = titles.indexOf('PID');
    if (pidColumn < 0) throw invalidArgument('PS_NO_PID', `couldn't find PID field in ps output`);
    const processes = lines.slice(1).map((line) => {
      const fields = line.trim().split(/\s+/);
      return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    }).filter((fields) => pids.has(fields[pidColumn] ?? ''));
    this.service.emit(record, 'top');
    return { Titles: titles, Processes: processes };
  }

  async stats(id: string, options: { stream: boolean; oneShot: boolean }, signal: AbortSignal): Promise<AsyncIterable<Record<string, unknown>>> {
    const record = this.service.store.resolve(id);
    const cgroups = this.service.deps.cgroups;
    const queue = new AsyncQueue<Record<string, unknown>>();
    let previous: StatsSample | undefined;
    const sample = async (): Promise<Record<string, unknown>> => {
      const current = this.service.store.get(record.Id);
      const running = current?.State.Running === true;
      const stats = running && cgroups ? await cgroups.stats(record.CgroupsPath).catch(() => undefined) : undefined;
      // host networking has no interfaces of its own to count (docker shows none either)
      const networks = running && current?.HostConfig.NetworkMode !== 'host' ? await networkStats(current?.State.Pid ?? 0) : undefined;
      const result = statsJson(record.Id, record.Name, stats, await systemCpuNanos(), previous, networks);
      previous = result.sample;
      return result.json;
    };
    if (!options.stream) {
      if (!options.oneShot && record.State.Running) {
        await sample();
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      queue.push(await sample());
      queue.end();
      return queue;
    }
    const tick = async (): Promise<void> => {
      if (signal.aborted) { queue.end(); return; }
      queue.push(await sample());
      if (!this.service.store.get(record.Id)?.State.Running) { queue.end(); return; }
      timer = setTimeout(() => { void tick(); }, 1000);
    };
    let timer: NodeJS.Timeout | undefined;
    signal.addEventListener('abort', () => { clearTimeout(timer); queue.end(); }, { once: true });
    await tick();
    return queue;
  }

  async changes(id: string): Promise<Array<{ Path: string; Kind: number }>> {
    const record = this.service.store.resolve(id);
    return await this.withRootfs(record, async () => await changesFromDiff(this.service.deps.rootfs.diff(record.Id)));
  }

  async exportRootfs(id: string, _signal: AbortSignal): Promise<Readable> {
    const record = this.service.store.resolve(id);
    const tar = await this.streamWithRootfs(record, (root) => exportRootfs(root));
    this.service.emit(record, 'export');
    return tar;
  }

  async archiveStat(id: string, path: string): Promise<PathStat> {
    const record = this.service.store.resolve(id);
    return await this.withRootfs(record, (root) => statPath(root, path));
  }

  async archiveGet(id: string, path: string, _signal: AbortSignal): Promise<{ stat: PathStat; tar: Readable }> {
    const record = this.service.store.resolve(id);
    let stat: PathStat | undefined;
    const tar = await this.streamWithRootfs(record, async (root) => {
      const answer = await archivePath(root, path);
      stat = answer.stat;
      return answer.tar;
    });
    this.service.emit(record, 'archive-path');
    return { stat: stat as PathStat, tar };
  }

  async archivePut(id: string, path: string, tar: Readable, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const record = this.service.store.resolve(id);
    if (record.HostConfig.ReadonlyRootfs) throw conflict('READONLY_ROOTFS', 'container rootfs is marked read-only');
    this.service.rootWritten(record.Id);
    await this.withRootfs(record, (root) => extractInto(root, path, tar, { copyUIDGID: options.copyUIDGID }));
    this.service.emit(record, 'extract-to-dir');
  }

  async prune(filters: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const key of filters.keys()) if (key !== 'until' && key !== 'label') throw invalidArgument('BAD_FILTERS', `invalid filter '${key}'`);
    const until = filters.get('until')?.[0];
    const untilMs = until === undefined ? undefined : (/^\d+(\.\d+)?$/.test(until) ? Number(until) * 1000 : Date.parse(until));
    const deleted: string[] = [];
    for (const record of this.service.store.all()) {
      if (record.State.Running || record.State.Restarting) continue;
      if (untilMs !== undefined && Date.parse(record.Created) >= untilMs) continue;
      const labels = record.Config.Labels ?? {};
      const labelOk = (filters.get('label') ?? []).every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? labels[l] !== undefined : labels[l.slice(0, eq)] === l.slice(eq + 1);
      });
      if (!labelOk) continue;
      await this.service.remove(record.Id).then(() => deleted.push(record.Id)).catch(() => undefined);
    }
    this.service.deps.events.publish('container', 'prune', '', { reclaimed: '0' });
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }

  async commit(options: { container: string; repo?: string; tag?: string; comment?: string; author?: string; pause: boolean; changes: string[] },
    config: Record<string, unknown> | undefined): Promise<{ Id: string }> {
    if (!this.committer) throw new BerthError('not_implemented', 'NO_COMMIT', 'commit is not available: no image store is wired');
    const record = this.service.store.resolve(options.container);
    const base: ImageContainerConfig = {
      User: record.Config.User ?? '', Env: record.Config.Env ?? [], Cmd: commandOf(record.Config.Cmd),
      Entrypoint: commandOf(record.Config.Entrypoint), WorkingDir: record.Config.WorkingDir ?? '',
      Labels: record.Config.Labels ?? {}, ...(record.Config.ExposedPorts ? { ExposedPorts: record.Config.ExposedPorts } : {}),
      ...(record.Config.Volumes ? { Volumes: record.Config.Volumes } : {}),
      ...(record.Config.StopSignal ? { StopSignal: record.Config.StopSignal } : {}),
      // the check goes with the image, as docker commit keeps it
      ...(record.Config.Healthcheck ? { Healthcheck: record.Config.Healthcheck } : {}),
      ...(config ?? {}),
    };
    const pause = options.pause && record.State.Running && !record.State.Paused;
    const imageConfig = applyChanges(base, options.changes);
    if (pause) await this.service.pause(record.Id);
    try {
      const id = await this.withRootfs(record, () => this.committer!.commit({
        containerId: record.Id, parentImageId: record.Image, config: imageConfig,
        ...(options.repo ? { repo: options.repo } : {}), ...(options.tag ? { tag: options.tag } : {}),
        ...(options.comment ? { comment: options.comment } : {}), ...(options.author ? { author: options.author } : {}),
      }));
      if (options.repo) {
        // dockerd tags the new image (with its labels, as image events carry them) before the commit event
        const name = familiarString(parseNormalizedReference(options.tag ? `${options.repo}:${options.tag}` : options.repo));
        this.service.deps.events.publish('image', 'tag', id, { ...imageConfig.Labels, name });
      }
      this.service.emit(record, 'commit');
      return { Id: id };
    } finally {
      if (pause) await this.service.unpause(record.Id).catch(() => undefined);
    }
  }

  execCreate(id: string, body: ExecCreateRequest): Promise<{ Id: string }> { return this.execs.create(id, body); }
  execStart(execId: string, options: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }): Promise<StartedExec> {
    return this.execs.start(execId, options);
  }
  execIsTty(execId: string): boolean { return this.execs.isTty(execId); }
  execCheckStartable(execId: string): void { this.execs.checkStartable(execId); }
  execResize(execId: string, height: number, width: number): Promise<void> { return this.execs.resize(execId, width, height); }
  async execInspect(execId: string): Promise<Record<string, unknown>> { return this.execs.inspect(execId); }

  /** Run with the container's root mounted (it is while running; else mount for the call). */
  private async withRootfs<T>(record: ContainerRecord, work: (root: string) => Promise<T>): Promise<T> {
    const rootfs = this.service.deps.rootfs;
    await this.service.rootSettled(record.Id);   // not a second mount beside its create's
    const root = await rootfs.mount(record.Id, record.Image);
    try {
      return await work(root);
    } finally {
      if (!this.service.store.get(record.Id)?.State.Running) await this.service.unmountRoot(record.Id).catch(() => undefined);
    }
  }

  /** Like withRootfs for a stream: unmount once the stream is over. */
  private async streamWithRootfs(record: ContainerRecord, open: (root: string) => Promise<Readable>): Promise<Readable> {
    const rootfs = this.service.deps.rootfs;
    await this.service.rootSettled(record.Id);   // not a second mount beside its create's
    const root = await rootfs.mount(record.Id, record.Image);
    const release = (): void => {
      if (!this.service.store.get(record.Id)?.State.Running) void this.service.unmountRoot(record.Id).catch(() => undefined);
    };
    try {
      const stream = await open(root);
      stream.once('close', release);
      return stream;
    } catch (err) {
      release();
      throw err;
    }
  }
}

function commandOf(value: string[] | string | null | undefined): string[] | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? [value] : value;
}

/**
 * --health-on-failure: restart and stop as `docker restart`/`docker stop` would; kill is a
 * SIGKILL that counts as a stop by hand (as `docker kill` does), so no restart policy
 * brings the container back.
 */
async function remediate(service: ContainerService, id: string, action: Exclude<HealthOnFailure, 'none'>): Promise<void> {
  if (action === 'restart') await service.restart(id);
  else if (action === 'stop') await service.stop(id);
  else await service.kill(id, 'SIGKILL');
}
