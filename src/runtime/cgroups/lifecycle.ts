// The end of a cgroup's life, shared by v1 and v2: signal its processes, wait until it is
// empty, remove its directories.
import { BerthError, errnoCode } from '../../errors/berth-error.js';
import { pollUntil, removeDirectory, subtreeDeepestFirst } from './cgroupfs.js';

/** Signal each pid; processes that are already gone are fine. */
export function killProcesses(pids: readonly number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err;
    }
  }
}

export async function waitUntilEmpty(group: { path: string; pids(): Promise<number[]> }, timeoutMs: number): Promise<void> {
  let last: number[] = [];
  const empty = await pollUntil(async () => {
    last = await group.pids();
    return last.length === 0;
  }, timeoutMs, 10);
  if (!empty) {
    throw new BerthError('conflict', 'CGROUP_BUSY',
      `cgroup ${group.path} still has processes ${last.slice(0, 10).join(', ')} after ${timeoutMs}ms`,
      { hint: 'kill them first (killAll) or wait for them to exit', detail: { pids: last } });
  }
}

/**
 * Remove each leaf with everything below it (deepest first), then the ancestors we made
 * (innermost first). An ancestor that another cgroup now uses stays: rmdir says EBUSY.
 */
export async function destroyDirectories(leaves: readonly string[], madeAncestorsInnermostFirst: readonly string[], deadline: number): Promise<void> {
  // leaves live in different hierarchies (v1): remove them concurrently
  const removals = await Promise.allSettled(leaves.map(async (leaf) => {
    // a leaf with no child cgroups (nearly always) goes in one rmdir, without a listing
    if (await removeDirectory(leaf, 0).then(() => true, () => false)) return;
    for (const dir of await subtreeDeepestFirst(leaf)) await removeDirectory(dir, deadline);
  }));
  const failed = removals.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  for (const dir of madeAncestorsInnermostFirst) {
    if (leaves.includes(dir)) continue;
    try {
      await removeDirectory(dir, 0);
    } catch (err) {
      if (!(err instanceof BerthError && err.code === 'CGROUP_BUSY')) throw err;
    }
  }
}
