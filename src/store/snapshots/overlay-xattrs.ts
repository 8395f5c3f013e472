// Which xattrs overlayfs keeps its own metadata in. Mounted by root of the initial user
// namespace it uses trusted.overlay.*; mounted inside a user namespace (rootless berthd)
// trusted.* is out of reach, so berth mounts it with `userxattr` and it uses user.overlay.*
// instead, for the opaque dirs of layers as much as for those a container makes.
import { readFileSync } from 'node:fs';

export const TRUSTED_OPAQUE_XATTR = 'trusted.overlay.opaque';
export const USER_OPAQUE_XATTR = 'user.overlay.opaque';

/** overlay's own metadata (either form): never copied into a layer, never taken from one */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/** Is this uid_map text the initial user namespace's (every id mapped to itself)? */
export function isInitialUidMap(uidMap: string): boolean {
  const lines = uidMap.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number));
  return lines.length === 1 && lines[0]?.[0] === 0 && lines[0][1] === 0 && lines[0][2] === 4294967295;
}

/** Does overlay, mounted by this process, need `userxattr`? (read once, when a snapshotter is made) */
export function overlayNeedsUserXattr(uidMap: string = readFileSync('/proc/self/uid_map', 'utf8')): boolean {
  return !isInitialUidMap(uidMap);
}
