// Releasing what a run held once its process ended (or at recovery): the network sandbox, the
// runtime's container (leftover processes, cgroup, state), the root mount, a shareable /dev/shm.
import { isBerthError } from '../../errors/berth-error.js';
import type { PhaseTimer } from '../../util/phase-timer.js';
import type { RuntimeSet, SandboxProvider } from './ports.js';
import { shortId, type ContainerRecord } from './record.js';
import { unmountShareableShm } from './shm-mount.js';

export interface RunCleanupContext {
  runtimes: RuntimeSet;
  networks: SandboxProvider | undefined;
  warn(message: string): void;
  unmountRoot(id: string): Promise<void>;
  /** the container's record directory (where a shareable /dev/shm is mounted) */
  containerDir(id: string): string;
}

export interface RunCleanupOptions {
  /** the root stays mounted (an --rm container's removal unmounts it) */
  keepRootMounted?: boolean;
  /** only the network sandbox: the runtime's container goes later (an --rm removal's teardown) */
  networkOnly?: boolean;
}

/**
 * The network sandbox does not depend on the processes, so it goes concurrently with the
 * rest; the root is unmounted only once the runtime has killed and reaped everything in the
 * container. A failed step is logged (not found is no failure), the others still run.
 */
export async function releaseRun(ctx: RunCleanupContext, record: ContainerRecord, trace?: PhaseTimer, options: RunCleanupOptions = {}): Promise<void> {
  const step = async (what: string, work: () => Promise<void>): Promise<void> => {
    await (trace ? trace.time(what.replace(' ', '-'), work) : work()).catch((err: unknown) => {
      if (!isBerthError(err, 'not_found')) ctx.warn(`${what} of ${shortId(record.Id)}: ${err instanceof Error ? err.message : String(err)}`);
    });
  };
  await Promise.all([
    step('network sandbox', async () => { await ctx.networks?.destroySandbox(record.Id); }),
    (async () => {
      if (options.networkOnly) return;
      await step('runtime delete', () => deleteRuntimeContainer(ctx.runtimes, record, ctx.warn, trace?.child('runtime.delete.')));
      if (!options.keepRootMounted) await step('rootfs unmount', () => ctx.unmountRoot(record.Id));
      // only a shareable container has a host-side /dev/shm; others skip the mountinfo read
      if (record.HostConfig.IpcMode === 'shareable') await step('shm unmount', () => unmountShareableShm(ctx.containerDir(record.Id)));
    })(),
  ]);
}

/**
 * The runtime's container deleted (leftover processes killed, cgroup and state removed); a
 * failure is logged, not thrown (one that is already gone is no failure).
 */
export async function deleteRuntimeContainer(runtimes: RuntimeSet, record: ContainerRecord, warn: (message: string) => void, trace?: PhaseTimer): Promise<void> {
  await runtimes.get(record.Runtime).delete(record.Id, { force: true, ...(trace ? { trace } : {}) }).catch((err: unknown) => {
    if (!isBerthError(err, 'not_found')) warn(`runtime delete of ${shortId(record.Id)}: ${err instanceof Error ? err.message : String(err)}`);
  });
}
