// Containers in a user namespace of their own (--userns=auto|remap, --userns-remap): the
// checks made at create, the OCI spec part (the namespace, its maps, /sys bound where a
// fresh sysfs cannot be mounted), and the host files its root must reach or own.
import { chmod, chown, lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { conflict, errnoCode, invalidArgument } from '../../errors/berth-error.js';
import type { Mount, Spec } from '../../oci/runtime-spec.js';
import type { IdMaps, IdRange } from '../../sys/idmap.js';
import { runProgram } from '../../sys/exec.js';
import type { HostConfig } from './create-request.js';

/** What the container service needs from the user namespace service (daemon/userns). */
export interface UserNamespaces {
  /** at create: the container's maps, allocated now, or undefined for the host's user namespace */
  allocate(containerId: string, host: HostConfig): Promise<IdMaps | undefined>;
  /** at start: the maps allocated at create */
  mapsOf(containerId: string): IdMaps | undefined;
  release(containerId: string): Promise<void>;
}

export function hostIdOf(ranges: readonly IdRange[], inside: number): number | undefined {
  const range = ranges.find((r) => inside >= r.containerID && inside < r.containerID + r.size);
  return range === undefined ? undefined : range.hostID + inside - range.containerID;
}

/** The host uid/gid of an id pair inside the container; overflow (nobody) when unmapped. */
export function mappedIds(maps: IdMaps | undefined, uid: number, gid: number): { uid: number; gid: number } {
  if (!maps) return { uid, gid };
  return { uid: hostIdOf(maps.uidMappings, uid) ?? 65534, gid: hostIdOf(maps.gidMappings, gid) ?? 65534 };
}

/** dockerd's refusals: what would give the container the host's namespaces back. */
export function checkUsernsConflicts(host: HostConfig): void {
  const refuse = (what: string): never => {
    throw conflict('USERNS_CONFLICT', `cannot ${what} when user namespaces are enabled (use --userns=host)`);
  };
  if (host.NetworkMode === 'host') refuse('share the host\'s network namespace');
  if (host.PidMode === 'host') refuse('share the host PID namespace');
  if (host.IpcMode === 'host') refuse('share the host IPC namespace');
  if (host.UTSMode === 'host') refuse('share the host UTS namespace');
  if (host.Privileged) refuse('run a privileged container');
}

/** The create-time checks of a container that gets a user namespace. */
export async function checkUserNamespace(host: HostConfig, maps: IdMaps): Promise<void> {
  checkUsernsConflicts(host);
  await checkBindsReadable(host, maps);
}

/** -v sources with the podman :U option (chown the source to the container's user). */
export function chownedBindSources(host: HostConfig): string[] {
  return (host.Binds ?? []).map((bind) => bind.split(':')).filter((parts) => parts.length === 3 && parts[0]?.startsWith('/')
    && (parts[2] ?? '').split(',').includes('U')).map((parts) => parts[0] as string);
}

/** -v sources with the podman idmap option: the helper opens them as host root, and the container sees their own ids. */
export function idmappedBindSources(host: HostConfig): string[] {
  return (host.Binds ?? []).map((bind) => bind.split(':')).filter((parts) => parts.length === 3 && parts[0]?.startsWith('/')
    && (parts[2] ?? '').split(',').includes('idmap')).map((parts) => parts[0] as string);
}

/** Binds the container's root reaches with its own ids (not :U, not :idmap): their path must be readable by it. */
function bindSources(host: HostConfig): string[] {
  const exempt = new Set([...chownedBindSources(host), ...idmappedBindSources(host)]);
  const fromBinds = (host.Binds ?? []).map((bind) => bind.split(':')[0] ?? '').filter((s) => s.startsWith('/') && !exempt.has(s));
  const fromMounts = (host.Mounts ?? []).filter((m) => m.Type === 'bind' && m.Source?.startsWith('/')).map((m) => m.Source as string);
  return [...fromBinds, ...fromMounts];
}

/** Can uid/gid (no capabilities over host files) get `want` (4 read, 1 search) on the file? */
function permits(info: { uid: number; gid: number; mode: number }, uid: number, gid: number, want: number): boolean {
  const bits = info.uid === uid ? (info.mode >> 6) & 7 : info.gid === gid ? (info.mode >> 3) & 7 : info.mode & 7;
  return (bits & want) === want;
}

/** Every path the container's root cannot read (or a dir on the way it cannot search), in a clear error. */
export async function checkBindsReadable(host: HostConfig, maps: IdMaps): Promise<void> {
  const root = mappedIds(maps, 0, 0);
  for (const source of bindSources(host)) {
    const parts = path.resolve(source).split('/').filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const current = `/${parts.slice(0, i).join('/')}`;
      let info;
      try {
        info = await stat(current);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') break; // created at start, by and for the container
        throw err;
      }
      const last = i === parts.length;
      const want = !last ? 1 : info.isDirectory() ? 5 : 4;
      if (!permits(info, root.uid, root.gid, want)) {
        throw invalidArgument('BIND_NOT_READABLE', `bind mount source ${source}: ${current} is not ${last ? 'readable' : 'searchable'} by the container's root (host uid ${root.uid}, gid ${root.gid}) in its user namespace`,
          { hint: 'make it readable for that id, or add :U to -v to chown the source to the container' });
      }
    }
  }
}

/** The spec with a new user namespace and its maps; sysfs of a network namespace the container does not own is bound from the host. */
export function withUserNamespace(spec: Spec, maps: IdMaps): Spec {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const ownNetwork = namespaces.some((ns) => ns.type === 'network' && !ns.path);
  const mounts = (spec.mounts ?? []).map((m): Mount => (m.type === 'sysfs' && !ownNetwork
    ? { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m));
  return {
    ...spec, mounts,
    linux: { ...linux, namespaces: [{ type: 'user' }, ...namespaces.filter((ns) => ns.type !== 'user')],
      uidMappings: [...maps.uidMappings], gidMappings: [...maps.gidMappings] },
  };
}

/** Let others search a directory (no listing): the container's root walks through berth's own dirs. */
async function allowSearch(dir: string): Promise<void> {
  const info = await stat(dir);
  if ((info.mode & 0o001) === 0) await chmod(dir, (info.mode & 0o7777) | 0o001);
}

/** The dirs above the data root are not berth's to open up: one others cannot search is a clear error. */
async function checkSearchableAbove(dataRoot: string): Promise<void> {
  for (let dir = path.dirname(dataRoot); ; dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw invalidArgument('DATA_ROOT_NOT_SEARCHABLE', `${dir} (above the data root ${dataRoot}) is not searchable by others: a container in a user namespace cannot reach its root file system`,
        { hint: `chmod o+x ${dir}` });
    }
    if (dir === '/') return;
  }
}

export interface UsernsFiles {
  /** berthd's data root: dirs from it down to the rootfs and volumes get o+x */
  dataRoot: string;
  containerDir: string;
  etcFiles: readonly string[];
  rootfs: string;
  /** host sources of the container's binds after volume resolution */
  bindSources: readonly string[];
}

/** Host files a remapped container's root must reach: berth's dirs searchable, its own files its own. */
export async function prepareUsernsFiles(files: UsernsFiles, maps: IdMaps): Promise<void> {
  const root = mappedIds(maps, 0, 0);
  await checkSearchableAbove(files.dataRoot);
  const inside = (p: string): boolean => p.startsWith(files.dataRoot + path.sep);
  for (const target of [files.rootfs, ...files.etcFiles, ...files.bindSources.filter(inside)]) {
    for (let dir = path.dirname(target); inside(dir) || dir === files.dataRoot; dir = path.dirname(dir)) await allowSearch(dir);
  }
  await chown(files.containerDir, 0, root.gid);
  for (const file of files.etcFiles) await chown(file, root.uid, root.gid);
  // a volume made for this container is still root's and empty-handed: give it to the container's root
  for (const source of files.bindSources.filter((s) => inside(s) && path.basename(s) === '_data')) {
    const info = await lstat(source);
    if (info.uid === 0 && info.gid === 0) await chown(source, root.uid, root.gid);
  }
}

/** podman's :U: the source belongs to the container's user (its host ids when remapped). */
export async function chownBindSources(sources: readonly string[], ids: { uid: number; gid: number }): Promise<void> {
  for (const source of sources) await runProgram('chown', ['-R', '--no-dereference', `${ids.uid}:${ids.gid}`, '--', source]);
}
