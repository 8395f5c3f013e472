// Layers for containers in a user namespace, shared without copying: each lower layer
// directory is idmapped (sys/idmap.ts) onto a staging dir, overlay is mounted over the
// staged clones, and the staging mounts come off at once (overlay keeps private clones).
// Where the kernel cannot idmap, a one-time chowned copy of each layer per id range is
// the fallback (shiftOwnership), kept under <root>/shifted/<uid>-<gid>/.
import { chmod, chown, lchown, lstat, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isBerthError } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import { MNT_DETACH, umount } from '../../sys/fs-native.js';
import { mountIdmapped, type IdMaps, type IdRange } from '../../sys/idmap.js';

export type IdmapMechanism = 'idmapped-mounts' | 'chowned-copy';

/** The host id that id `inside` of the container maps to; undefined when unmapped. */
export function hostIdOf(ranges: readonly IdRange[], inside: number): number | undefined {
  const range = ranges.find((r) => inside >= r.containerID && inside < r.containerID + r.size);
  return range === undefined ? undefined : range.hostID + inside - range.containerID;
}

/** The host id `outside` as the container sees it; undefined when outside every range. */
export function insideIdOf(ranges: readonly IdRange[], outside: number): number | undefined {
  const range = ranges.find((r) => outside >= r.hostID && outside < r.hostID + r.size);
  return range === undefined ? undefined : range.containerID + outside - range.hostID;
}

/** Host owners -> the container's (ids berth itself gave, e.g. host root's, stay as they are). */
export function unmapOwners(maps: IdMaps): (uid: number, gid: number) => { uid: number; gid: number } {
  return (uid, gid) => ({ uid: insideIdOf(maps.uidMappings, uid) ?? uid, gid: insideIdOf(maps.gidMappings, gid) ?? gid });
}

/** The container root's host uid and gid (0 inside); files of the writable layer belong to them. */
export function mappedRoot(maps: IdMaps): { uid: number; gid: number } {
  return { uid: hostIdOf(maps.uidMappings, 0) ?? 65534, gid: hostIdOf(maps.gidMappings, 0) ?? 65534 };
}

/** Errors that mean "this kernel or file system cannot idmap", not a bug of ours. */
const CANNOT_IDMAP = new Set(['EINVAL', 'ENOSYS', 'EOPNOTSUPP', 'ENOTSUP', 'EPERM']);

export function cannotIdmap(err: unknown): boolean {
  if (!isBerthError(err)) return false;
  const code = err.detail?.['code'];
  return typeof code === 'string' && CANNOT_IDMAP.has(code);
}

/**
 * Idmap `lowers` onto <stageDir>/<n> and call `use` with the staged paths (top first, as
 * given); the staging mounts are detached afterwards whatever happens.
 */
export async function withIdmappedLowers<T>(stageDir: string, lowers: readonly string[], maps: IdMaps,
  use: (staged: string[]) => Promise<T>): Promise<T> {
  const staged = lowers.map((_, index) => path.join(stageDir, String(index)));
  await rm(stageDir, { recursive: true, force: true });
  for (const dir of staged) await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await mountIdmapped(maps, lowers.map((source, index) => ({ source, target: staged[index] as string })));
    return await use(staged);
  } finally {
    for (const dir of staged) {
      try { umount(dir, MNT_DETACH); } catch { /* not mounted: the helper failed before it */ }
    }
    await rm(stageDir, { recursive: true, force: true });
  }
}

/** Give the writable layer's top directories to the container's root (once). */
export async function ownByMappedRoot(dirs: readonly string[], maps: IdMaps): Promise<void> {
  const root = mappedRoot(maps);
  for (const dir of dirs) {
    const info = await stat(dir);
    if (info.uid !== root.uid || info.gid !== root.gid) await chown(dir, root.uid, root.gid);
  }
}

/** Shift every owner in a tree by the maps (ids outside them stay); setuid/setgid bits survive. */
export async function shiftOwnership(dir: string, maps: IdMaps): Promise<void> {
  const shift = async (file: string): Promise<void> => {
    const info = await lstat(file);
    const uid = hostIdOf(maps.uidMappings, info.uid) ?? info.uid;
    const gid = hostIdOf(maps.gidMappings, info.gid) ?? info.gid;
    await lchown(file, uid, gid);
    // chown clears setuid/setgid on files: put the mode back
    if (!info.isSymbolicLink() && (info.mode & 0o6000) !== 0) await chmod(file, info.mode & 0o7777);
    if (info.isDirectory()) for (const name of await readdir(file)) await shift(path.join(file, name));
  };
  await shift(dir);
}

/** The fallback: a chowned copy of a layer for one id range, made once and reused by every container with that range. */
export async function shiftedCopy(root: string, layerDir: string, name: string, maps: IdMaps): Promise<string> {
  const owner = mappedRoot(maps);
  const target = path.join(root, 'shifted', `${owner.uid}-${owner.gid}`, name);
  if (await stat(path.join(target, '.done')).then(() => true, () => false)) return path.join(target, 'fs');
  const work = `${target}.tmp`;
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'fs'), { recursive: true, mode: 0o755 });
  await runProgram('cp', ['-a', '--', `${layerDir}/.`, `${path.join(work, 'fs')}/`]);
  await shiftOwnership(path.join(work, 'fs'), maps);
  await writeFile(path.join(work, '.done'), '');
  await rm(target, { recursive: true, force: true });
  await rename(work, target);
  return path.join(target, 'fs');
}

/** Can this kernel idmap a directory of this file system? (one idmapped mount of an empty dir, undone at once) */
export async function probeIdmappedMounts(scratchDir: string): Promise<boolean> {
  const source = path.join(scratchDir, 'source');
  await mkdir(source, { recursive: true, mode: 0o700 });
  const probeMaps: IdMaps = { uidMappings: [{ containerID: 0, hostID: 65536, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 65536, size: 65536 }] };
  try {
    return await withIdmappedLowers(path.join(scratchDir, 'stage'), [source], probeMaps, async () => true);
  } catch (err) {
    if (cannotIdmap(err)) return false;
    throw err;
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}
