// A container's volume references -> plain host bind mounts the spec builder understands:
// `-v name:/dst`, `-v /dst` (anonymous), image VOLUME paths (anonymous), --mount type=volume,
// --volumes-from. Named volumes are created on demand and, while empty, filled from the
// image's content at the destination (docker's copy-up), unless nocopy.
import { createHash } from 'node:crypto';
import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { invalidArgument } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import type { VolumeStore } from './store.js';

export interface MountLike {
  Type: string;
  Source?: string | undefined;
  Target: string;
  ReadOnly?: boolean | undefined;
  VolumeOptions?: Record<string, unknown> | null | undefined;
}

/** The parts of a container record volumes care about (declared here: no import of the containers domain). */
export interface ContainerView<M extends MountLike = MountLike> {
  Id: string;
  Config: { Volumes?: Record<string, unknown> | null | undefined };
  HostConfig: {
    Binds?: string[] | null | undefined;
    Mounts?: M[] | null | undefined;
    VolumesFrom?: string[] | null | undefined;
    Tmpfs?: Record<string, string> | null | undefined;
  };
}

export interface ResolvedMounts<M extends MountLike> {
  Binds: string[];
  Mounts: M[];
}

/** A volume a container uses, with where and how. */
export interface VolumeUse {
  name: string;
  destination: string;
  readOnly: boolean;
  noCopy: boolean;
  anonymous: boolean;
  driverOptions?: Record<string, string>;
  labels?: Record<string, string>;
}

const volumeOptionsSchema = z.object({
  NoCopy: z.boolean().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
  DriverConfig: z.object({ Name: z.string().optional(), Options: z.record(z.string(), z.string()).nullable().optional() })
    .nullable().optional(),
}).passthrough();

/** Anonymous volume names are derived from container and destination, so a restart reuses them. */
export function anonymousVolumeName(containerId: string, destination: string): string {
  return createHash('sha256').update(`${containerId}\0${destination}`).digest('hex');
}

function isVolumeSource(source: string): boolean {
  return source !== '' && !source.startsWith('/');
}

/** Every volume a container refers to by itself (not through --volumes-from). */
export function volumeUses(container: ContainerView): VolumeUse[] {
  const uses: VolumeUse[] = [];
  const taken = new Set<string>();
  for (const bind of container.HostConfig.Binds ?? []) {
    const parts = bind.split(':');
    if (parts.length === 1) {
      const destination = parts[0] ?? '';
      uses.push({ name: anonymousVolumeName(container.Id, destination), destination, readOnly: false, noCopy: false, anonymous: true });
      taken.add(destination);
      continue;
    }
    const [source = '', destination = '', mode = ''] = parts;
    taken.add(destination);
    if (!isVolumeSource(source)) continue;
    const modes = mode.split(',');
    uses.push({ name: source, destination, readOnly: modes.includes('ro'), noCopy: modes.includes('nocopy'), anonymous: false });
  }
  for (const m of container.HostConfig.Mounts ?? []) {
    taken.add(m.Target);
    if (m.Type !== 'volume') continue;
    const options = volumeOptionsSchema.safeParse(m.VolumeOptions ?? {});
    if (!options.success) throw invalidArgument('BAD_MOUNT', `invalid VolumeOptions for mount ${m.Target}: ${options.error.message}`);
    const anonymous = !m.Source;
    uses.push({
      name: m.Source || anonymousVolumeName(container.Id, m.Target), destination: m.Target, readOnly: m.ReadOnly === true,
      noCopy: options.data.NoCopy === true, anonymous,
      ...(options.data.DriverConfig?.Options ? { driverOptions: options.data.DriverConfig.Options } : {}),
      ...(options.data.Labels ? { labels: options.data.Labels } : {}),
    });
  }
  for (const destination of Object.keys(container.HostConfig.Tmpfs ?? {})) taken.add(destination);
  for (const destination of Object.keys(container.Config.Volumes ?? {})) {
    if (taken.has(destination)) continue;
    uses.push({ name: anonymousVolumeName(container.Id, destination), destination, readOnly: false, noCopy: false, anonymous: true });
  }
  return uses;
}

export interface ResolveContext {
  store: VolumeStore;
  /** finds another container for --volumes-from (throws not found) */
  lookup: (idOrName: string) => ContainerView;
  /** a volume the container refers to was made now (docker's volume `create` event) */
  onCreated?: (name: string) => void;
  /** a volume is mounted into the container, its own or another's by --volumes-from (`mount`) */
  onMounted?: (mount: VolumeMount) => void;
}

/** One volume at one place in a container. */
export interface VolumeMount {
  name: string;
  destination: string;
  readOnly: boolean;
}

/**
 * Rewrite the container's volume references into host binds, creating volumes and copying
 * the image content (from `rootfs`, when given) into empty ones.
 */
export async function resolveMounts<M extends MountLike>(ctx: ResolveContext, container: ContainerView<M>,
  rootfs: string | undefined, depth = 0): Promise<ResolvedMounts<M>> {
  const uses = volumeUses(container);
  const byDestination = new Map(uses.map((u) => [u.destination, u]));
  // only the container being started reports; the --volumes-from donors' are resolved for their paths
  const report: Pick<ResolveContext, 'onCreated' | 'onMounted'> = depth === 0 ? ctx : {};
  for (const use of uses) {
    if (await ensureVolume(ctx.store, use, container.Id)) report.onCreated?.(use.name);
    const mountpoint = await ctx.store.ensureMounted(use.name);
    if (rootfs !== undefined && !use.noCopy) await copyUp(rootfs, use.destination, mountpoint);
  }
  const binds: string[] = [];
  for (const bind of container.HostConfig.Binds ?? []) {
    const parts = bind.split(':');
    const [source = '', destination = '', mode = ''] = parts.length === 1 ? ['', parts[0] ?? '', ''] : parts;
    const use = byDestination.get(destination);
    if (use) {
      const modes = mode.split(',').filter((o) => o && o !== 'nocopy');
      binds.push([ctx.store.mountpoint(use.name), destination, ...(modes.length > 0 ? [modes.join(',')] : [])].join(':'));
      continue;
    }
    // docker creates a missing -v source directory (but not a --mount one)
    if (source.startsWith('/')) await mkdir(source, { recursive: true, mode: 0o755 });
    binds.push(bind);
  }
  const mounts: M[] = [];
  for (const m of container.HostConfig.Mounts ?? []) {
    const use = m.Type === 'volume' ? byDestination.get(m.Target) : undefined;
    if (use) {
      mounts.push({ ...m, Type: 'bind', Source: ctx.store.mountpoint(use.name), VolumeOptions: undefined });
      continue;
    }
    if (m.Type === 'bind' && m.Source) {
      await stat(m.Source).catch((cause: unknown) => {
        throw invalidArgument('BIND_SOURCE_MISSING', `invalid mount config for type "bind": bind source path does not exist: ${m.Source ?? ''}`, { cause });
      });
    }
    mounts.push(m);
  }
  for (const use of uses) {
    if (use.anonymous && !(container.HostConfig.Binds ?? []).some((b) => b === use.destination)
      && !(container.HostConfig.Mounts ?? []).some((m) => m.Target === use.destination)) {
      binds.push(`${ctx.store.mountpoint(use.name)}:${use.destination}`);
    }
  }
  for (const use of uses) report.onMounted?.({ name: use.name, destination: use.destination, readOnly: use.readOnly });
  await addVolumesFrom(ctx, container, binds, depth);
  return { Binds: binds, Mounts: mounts };
}

/** --volumes-from ctr[:ro|rw]: the other container's volumes and binds at the same places. */
async function addVolumesFrom(ctx: ResolveContext, container: ContainerView, binds: string[], depth: number): Promise<void> {
  if (depth > 8) throw invalidArgument('VOLUMES_FROM_LOOP', `--volumes-from nests too deep at container ${container.Id}`);
  const taken = new Set(binds.map((b) => b.split(':')[1]));
  for (const entry of container.HostConfig.VolumesFrom ?? []) {
    const [ref = '', mode = ''] = entry.split(':');
    if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw invalidArgument('BAD_VOLUMES_FROM', `invalid mode for volumes-from: ${entry}`);
    const other = ctx.lookup(ref);
    const resolved = await resolveMounts(ctx, other, undefined, depth + 1);
    const inherited = [...resolved.Binds, ...resolved.Mounts.filter((m) => m.Type === 'bind' && m.Source)
      .map((m) => `${m.Source ?? ''}:${m.Target}${m.ReadOnly ? ':ro' : ''}`)];
    for (const bind of inherited) {
      const [source = '', destination = '', options = ''] = bind.split(':');
      if (taken.has(destination)) continue;
      taken.add(destination);
      const opts = options.split(',').filter((o) => o && o !== 'ro' && o !== 'rw');
      const readOnly = mode === 'ro' || (mode === '' && options.split(',').includes('ro'));
      binds.push(`${source}:${destination}:${[readOnly ? 'ro' : 'rw', ...opts].join(',')}`);
      const volume = depth === 0 ? volumeAt(ctx.store, source) : undefined;
      if (volume !== undefined) ctx.onMounted?.({ name: volume, destination, readOnly });
    }
  }
}

/** Make the volume a container uses if it does not exist yet; true when it was made now. */
export async function ensureVolume(store: VolumeStore, use: VolumeUse, containerId: string): Promise<boolean> {
  if (store.has(use.name)) return false;
  await store.create(use.name, {
    ...(use.driverOptions ? { DriverOpts: use.driverOptions } : {}),
    Labels: { ...(use.labels ?? {}), ...(use.anonymous ? { 'com.docker.volume.anonymous': '' } : {}) },
  }, use.anonymous ? containerId : undefined);
  return true;
}

/** The volume whose data directory `source` is, if it is one. */
function volumeAt(store: VolumeStore, source: string): string | undefined {
  const name = path.basename(path.dirname(source));
  return store.has(name) && store.mountpoint(name) === source ? name : undefined;
}

/** docker's copy-up: an empty volume gets the image's files at its destination. */
async function copyUp(rootfs: string, destination: string, mountpoint: string): Promise<void> {
  if ((await readdir(mountpoint)).length > 0) return;
  const root = await realpath(rootfs);
  const source = await realpath(path.join(root, destination)).catch(() => undefined);
  // a destination that leaves the rootfs through a symlink is not copied from the host
  if (source === undefined || !source.startsWith(`${root}/`)) return;
  if (!(await stat(source)).isDirectory()) return;
  await runProgram('cp', ['-a', '--', `${source}/.`, mountpoint]);
}
