// Bytes a directory tree holds, as `du -sbx` counts them: apparent sizes of every entry
// (directories included), each inode once (hard links), never crossing into another mount.
// Skipped paths are left out with everything below them, so callers can split one tree
// into parts that add up.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../errors/berth-error.js';

export interface TreeSizeOptions {
  /** absolute paths not counted (nor anything below them) */
  skip?: ReadonlySet<string>;
  /** inodes already counted by an earlier walk ("dev:ino"), shared to count hard links once */
  seen?: Set<string>;
}

/** Bytes under `root` (0 when it does not exist). */
export async function treeSize(root: string, options: TreeSizeOptions = {}): Promise<number> {
  const skip = options.skip ?? new Set<string>();
  const seen = options.seen ?? new Set<string>();
  let top;
  try {
    top = await lstat(root);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
  if (skip.has(root)) return 0;
  let total = 0;
  const pending: string[] = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    const info = dir === root ? top : await lstat(dir).catch(() => undefined);
    if (info === undefined || info.dev !== top.dev) continue;
    const inode = `${info.dev}:${info.ino}`;
    if (seen.has(inode)) continue;
    seen.add(inode);
    total += info.size;
    if (!info.isDirectory()) continue;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const child = path.join(dir, name);
      if (!skip.has(child)) pending.push(child);
    }
  }
  return total;
}
