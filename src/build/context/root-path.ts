// Resolve a path inside a root directory the way the kernel would inside a chroot: `..`
// stops at the root and symlinks (absolute or relative) are followed relative to the root.
// Used for COPY sources in the build context and for destinations in a container root.
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';

const MAX_SYMLINKS = 255;

/**
 * Host path of `inside` (an absolute or root-relative path) under `root`. With
 * `followFinal: false` a final symlink is returned itself (COPY of a symlink copies the link).
 */
export async function resolveInRoot(root: string, inside: string, followFinal = true): Promise<string> {
  const pending = inside.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift() ?? '';
    if (component === '..') { resolved.pop(); continue; }
    const candidate = path.join(root, ...resolved, component);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    if (!isLink || (pending.length === 0 && !followFinal)) { resolved.push(component); continue; }
    if (++links > MAX_SYMLINKS) throw invalidArgument('BUILD_SYMLINK_LOOP', `too many levels of symbolic links resolving ${inside}`);
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return path.join(root, ...resolved);
}

/** The path relative to root, `/`-separated, for messages and cache keys. */
export function insideRoot(root: string, hostPath: string): string {
  const rel = path.relative(root, hostPath);
  return rel === '' ? '/' : `/${rel.split(path.sep).join('/')}`;
}
