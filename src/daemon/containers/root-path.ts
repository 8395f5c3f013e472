// Resolve a path inside a container root the way the kernel would with the root as "/":
// symlinks (absolute or relative) are followed but clamped to the root, so no path given
// by a user or found in an image ever reaches outside it (the securejoin approach).
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';

const MAX_LINKS = 255;

/**
 * The host path of `inner` under `root`, with every symlink on the way resolved inside
 * root. The last component is followed too unless `followLast` is false. Missing
 * components are fine: the rest is joined lexically (the caller may create it).
 */
export async function resolveInRoot(root: string, inner: string, followLast = true): Promise<string> {
  let pending = splitPath(inner);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.' || part === '') continue;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = path.join(root, ...resolved, part);
    if (!followLast && pending.length === 0) { resolved.push(part); break; }
    let target: string | undefined;
    try {
      const info = await lstat(candidate);
      if (info.isSymbolicLink()) target = await readlink(candidate);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    if (target === undefined) { resolved.push(part); continue; }
    if (++links > MAX_LINKS) throw invalidArgument('TOO_MANY_LINKS', `too many levels of symbolic links in ${inner}`);
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...splitPath(target), ...pending];
  }
  return path.join(root, ...resolved);
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s !== '');
}
