// The volumes service behind /volumes: create, list, inspect, remove, prune, disk usage,
// and the hooks the container service calls (resolve at start, remove anonymous on rm -v).
import { z } from 'zod';
import { conflict, invalidArgument, isBerthError } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import { anonymousVolumeName, ensureVolume, resolveMounts, volumeUses, type ContainerView, type MountLike, type ResolvedMounts, type VolumeMount } from './resolve.js';
import { VolumeStore, type VolumeMeta } from './store.js';

export interface VolumesDeps {
  root: string;
  /** every container record (for in-use checks) */
  containers: () => ContainerView[];
  /** one container by id or name (for --volumes-from); throws not found */
  lookup: (idOrName: string) => ContainerView;
  onEvent?: (action: string, name: string, attributes: Record<string, string>) => void;
  warn?: (message: string) => void;
}

export const volumeCreateSchema = z.object({
  Name: z.string().optional(),
  Driver: z.string().optional(),
  DriverOpts: z.record(z.string(), z.string()).nullable().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
}).passthrough();

export interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number };
}

export class VolumesService {
  readonly store: VolumeStore;
  /** the volumes mounted into each running container (for its `unmount` events) */
  private readonly mountedIn = new Map<string, VolumeMount[]>();

  constructor(private readonly deps: VolumesDeps) {
    this.store = new VolumeStore(deps.root);
  }

  async load(): Promise<void> {
    for (const warning of await this.store.load()) this.deps.warn?.(warning);
  }

  async create(body: unknown): Promise<VolumeJson> {
    const request = volumeCreateSchema.safeParse(body ?? {});
    if (!request.success) throw invalidArgument('BAD_VOLUME_REQUEST', `invalid volume create request: ${request.error.message}`);
    const name = request.data.Name || randomName();
    const meta = await this.store.create(name, {
      ...(request.data.Driver ? { Driver: request.data.Driver } : {}),
      ...(request.data.DriverOpts ? { DriverOpts: request.data.DriverOpts } : {}),
      ...(request.data.Labels ? { Labels: request.data.Labels } : {}),
    });
    // dockerd reports every create, also one that finds the volume there
    this.deps.onEvent?.('create', name, { driver: 'local' });
    return this.toJson(meta);
  }

  inspect(name: string): VolumeJson {
    return this.toJson(this.store.get(name));
  }

  list(filters: Map<string, string[]>): { Volumes: VolumeJson[]; Warnings: string[] } {
    const refs = this.refCounts();
    const volumes = this.store.all().filter((v) => matches(v, filters, refs.get(v.Name) ?? 0));
    return { Volumes: volumes.map((v) => this.toJson(v)), Warnings: [] };
  }

  /** Names of containers using the volume (directly or through --volumes-from targets). */
  usersOf(name: string): string[] {
    return this.deps.containers().filter((c) => volumeUses(c).some((u) => u.name === name)).map((c) => c.Id);
  }

  async remove(name: string, force: boolean): Promise<void> {
    if (!this.store.has(name)) {
      if (force) return;
      this.store.get(name);
    }
    const users = this.usersOf(name);
    if (users.length > 0) throw conflict('VOLUME_IN_USE', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.store.remove(name);
    this.deps.onEvent?.('destroy', name, { driver: 'local' });
  }

  /** docker 23+: only anonymous volumes unless the filter all=true; label filters apply. */
  async prune(filters: Map<string, string[]>): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const all = (filters.get('all') ?? []).some((v) => v === 'true' || v === '1');
    const labelFilters = new Map([...filters].filter(([k]) => k === 'label' || k === 'label!'));
    const refs = this.refCounts();
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const volume of this.store.all()) {
      if ((refs.get(volume.Name) ?? 0) > 0) continue;
      if (!all && volume.Labels['com.docker.volume.anonymous'] === undefined) continue;
      if (!matches(volume, labelFilters, 0)) continue;
      reclaimed += await this.size(volume.Name);
      await this.store.remove(volume.Name);
      this.deps.onEvent?.('destroy', volume.Name, { driver: 'local' });
      deleted.push(volume.Name);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** For `system df`: every volume with its size and how many containers use it. */
  async diskUsage(): Promise<VolumeJson[]> {
    const refs = this.refCounts();
    const out: VolumeJson[] = [];
    for (const volume of this.store.all()) {
      out.push({ ...this.toJson(volume), UsageData: { Size: await this.size(volume.Name), RefCount: refs.get(volume.Name) ?? 0 } });
    }
    return out;
  }

  /**
   * Container create: its volumes are made now (dockerd makes them at create, so `volume ls`
   * shows them and a bad name fails the create), each with a `create` event as dockerd emits
   * one per container that names it. Mounting and the image's content wait for the start.
   */
  async createFor(container: ContainerView): Promise<void> {
    for (const use of volumeUses(container)) {
      await ensureVolume(this.store, use, container.Id);
      this.deps.onEvent?.('create', use.name, { driver: 'local' });
    }
  }

  /**
   * Container start: the container's volume references as host binds. Like dockerd: a
   * `create` event for each volume made now, then a `mount` event for each volume mounted
   * (before the container's `start`); its `die` brings the `unmount`s (containerEvent).
   */
  async resolve<M extends MountLike>(container: ContainerView<M>, rootfs: string): Promise<ResolvedMounts<M>> {
    const mounted: VolumeMount[] = [];
    const resolved = await resolveMounts({
      store: this.store, lookup: this.deps.lookup, onCreated: (name) => this.deps.onEvent?.('create', name, { driver: 'local' }),
      onMounted: (mount) => mounted.push(mount),
    }, container, rootfs);
    if (mounted.length > 0) this.mountedIn.set(container.Id, mounted);
    else this.mountedIn.delete(container.Id);
    for (const mount of mounted) {
      this.deps.onEvent?.('mount', mount.name, {
        container: container.Id, destination: mount.destination, driver: 'local', propagation: '', 'read/write': String(!mount.readOnly),
      });
    }
    return resolved;
  }

  /** A container's volume at `destination` as inspect shows it: anonymous ones by their generated name; the host path once it exists. */
  mountOf(containerId: string, name: string | undefined, destination: string): { Name: string; Source: string } {
    const volume = name ?? anonymousVolumeName(containerId, destination);
    return { Name: volume, Source: this.store.has(volume) ? this.store.mountpoint(volume) : '' };
  }

  /** A container's run ended (`die`): its volumes are unmounted, as dockerd reports it; removed: forgotten. */
  containerEvent(action: string, containerId: string): void {
    if (action !== 'die' && action !== 'destroy') return;
    const mounted = this.mountedIn.get(containerId);
    if (mounted === undefined) return;
    this.mountedIn.delete(containerId);
    if (action !== 'die') return;
    for (const mount of mounted) this.deps.onEvent?.('unmount', mount.name, { container: containerId, driver: 'local' });
  }

  /** rm -v (and --rm): the container's anonymous volumes go with it; named ones stay. */
  async removeAnonymousOf(containerId: string): Promise<void> {
    for (const volume of this.store.all()) {
      if (volume.AnonymousFor !== containerId) continue;
      if (this.usersOf(volume.Name).some((id) => id !== containerId)) continue;
      await this.store.remove(volume.Name).catch((err: unknown) => {
        if (!isBerthError(err, 'not_found')) this.deps.warn?.(`removing volume ${volume.Name}: ${String(err)}`);
      });
      this.deps.onEvent?.('destroy', volume.Name, { driver: 'local' });
    }
  }

  /** Daemon shutdown: unmount the volumes' own filesystems (tmpfs, binds). */
  async close(): Promise<void> {
    for (const volume of this.store.all()) {
      if (volume.Options.type) await this.store.unmount(volume.Name).catch(() => undefined);
    }
  }

  private refCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.deps.containers()) {
      for (const use of volumeUses(c)) counts.set(use.name, (counts.get(use.name) ?? 0) + 1);
    }
    return counts;
  }

  private async size(name: string): Promise<number> {
    const result = await runProgram('du', ['-sbx', this.store.mountpoint(name)], { allowFailure: true });
    return Number.parseInt(result.stdout.split('\t')[0] ?? '0', 10) || 0;
  }

  private toJson(meta: VolumeMeta): VolumeJson {
    return {
      Name: meta.Name, Driver: meta.Driver, Mountpoint: this.store.mountpoint(meta.Name), CreatedAt: meta.CreatedAt,
      Labels: meta.Labels, Scope: 'local', Options: Object.keys(meta.Options).length > 0 ? meta.Options : null,
    };
  }
}

function randomName(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function matches(volume: VolumeMeta, filters: Map<string, string[]>, refCount: number): boolean {
  for (const [key, values] of filters) {
    if (values.length === 0) continue;
    const ok = values.some((value) => {
      switch (key) {
        case 'name': return volume.Name.includes(value);
        case 'driver': return volume.Driver === value;
        case 'dangling': return (value === 'true' || value === '1') === (refCount === 0);
        case 'label': return labelMatches(volume.Labels, value);
        case 'label!': return !labelMatches(volume.Labels, value);
        case 'all': return true;
        default: throw invalidArgument('BAD_FILTER', `invalid filter '${key}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return labels[filter] !== undefined;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
