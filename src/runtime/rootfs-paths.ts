// Resolving paths inside a container rootfs on the host. Absolute symlinks are taken
// relative to the rootfs (as RESOLVE_IN_ROOT, runc and crun do); a relative symlink whose
// ".." climbs above the rootfs is an escape and rejected, naming the link.
// Synchronous lstat/readlink: a few components per mount of a rootfs whose dentries are
// cached, microseconds each, where a thread pool round trip per component cost more. The
// mounts of one spec share most components (/dev, /sys/fs, /etc): a LinkCache of one plan
// asks the kernel once per host path.
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoCode, invalidArgument } from '../errors/berth-error.js';

const MAX_LINKS = 40;

/** host path -> its symlink target, or null (not a symlink, or missing): what one plan has looked up */
export type LinkCache = Map<string, string | null>;

function linkTarget(hostPath: string, cache: LinkCache | undefined): string | undefined {
  const known = cache?.get(hostPath);
  if (known !== undefined) return known ?? undefined;
  let target: string | null = null;
  try {
    // a missing component is the common case (made later): no exception for it
    if (lstatSync(hostPath, { throwIfNoEntry: false })?.isSymbolicLink()) target = readlinkSync(hostPath);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
  }
  cache?.set(hostPath, target);
  return target ?? undefined;
}

/**
 * The host path `containerPath` names inside `rootfs`, following symlinks in-root. Missing
 * components are fine (they will be created). Throws MOUNT_ESCAPES_ROOTFS naming `field`.
 */
export function resolveInRootfs(rootfs: string, containerPath: string, field: string, cache?: LinkCache): string {
  const pending = containerPath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift() as string;
    if (component === '..') {
      resolved.pop();
      continue;
    }
    const target = linkTarget(path.join(rootfs, ...resolved, component), cache);
    if (target === undefined) {
      resolved.push(component);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw invalidArgument('MOUNT_ESCAPES_ROOTFS', `${field} ${containerPath}: too many levels of symlinks in the rootfs`);
    }
    if (target.startsWith('/')) {
      resolved.length = 0;
    } else if (climbsAbove(resolved.length, target)) {
      throw invalidArgument('MOUNT_ESCAPES_ROOTFS',
        `${field} ${containerPath} escapes the rootfs through the symlink /${[...resolved, component].join('/')} -> ${target}`);
    }
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return path.join(rootfs, ...resolved);
}

function climbsAbove(depth: number, relativeTarget: string): boolean {
  let level = depth;
  for (const component of relativeTarget.split('/')) {
    if (component === '..') level--;
    else if (component !== '' && component !== '.') level++;
    if (level < 0) return true;
  }
  return false;
}
