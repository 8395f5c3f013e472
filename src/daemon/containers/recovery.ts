// What a berthd start does with the containers a previous berthd left: records loaded, runs
// that were cut short marked exited (or removed, for --rm), bundles of containers that no
// longer exist swept.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { stoppedState } from './live.js';
import type { RuntimeSet } from './ports.js';
import { shortId, type ContainerRecord } from './record.js';
import type { ContainerStore } from './store.js';

export interface RecoveryContext {
  store: ContainerStore;
  runtimes: RuntimeSet;
  execRoot: string;
  warn(message: string): void;
  /** release what a run held (sandbox, runtime container, root mount) */
  cleanupRun(record: ContainerRecord): Promise<void>;
  /** remove the container (record, root, bundle) */
  destroy(record: ContainerRecord): Promise<void>;
}

/** Load records; containers that were running when berthd died are marked exited. Returns those. */
export async function recoverContainers(ctx: RecoveryContext): Promise<ContainerRecord[]> {
  for (const warning of await ctx.store.load()) ctx.warn(`container ${warning.id}: ${warning.message}`);
  await sweepBundles(ctx.store, ctx.execRoot);
  const wasRunning: ContainerRecord[] = [];
  const held = await runtimeContainerIds(ctx.runtimes);
  for (const record of ctx.store.all()) {
    // start answers before its running state is written: a record still "created" whose
    // container the runtime holds was started by a berthd that died before the write landed
    const startedUnrecorded = record.State.Status === 'created' && held.has(record.Id);
    const ran = record.State.Running || record.State.Restarting || record.State.Status === 'removing' || startedUnrecorded;
    if (ran) await ctx.cleanupRun(record);
    if (record.HostConfig.AutoRemove && (ran || record.State.Status === 'exited')) {
      // as dockerd: an --rm container whose run ended while the daemon was away goes now
      await ctx.destroy(record).catch((err: unknown) => ctx.warn(`auto-remove of ${shortId(record.Id)}: ${String(err)}`));
      continue;
    }
    if (ran) {
      wasRunning.push(record);
      const died = record.State.Running || startedUnrecorded;
      const exited = { ...record, State: stoppedState(record.State, 255, died ? 'daemon exited while the container was running' : '', false) };
      await ctx.store.save(exited);
    }
  }
  return wasRunning;
}

/** Ids of the containers the runtimes hold (a runtime that cannot list counts as holding none). */
async function runtimeContainerIds(runtimes: RuntimeSet): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const name of runtimes.names()) {
    const states = await runtimes.get(name).list().catch(() => []);
    for (const state of states) ids.add(state.id);
  }
  return ids;
}

/** Bundles of containers that no longer exist (an --rm removal deletes its bundle after answering; a crash may cut that short). */
async function sweepBundles(store: ContainerStore, execRoot: string): Promise<void> {
  const bundles = path.join(execRoot, 'containers');
  for (const name of await readdir(bundles).catch(() => [] as string[])) {
    if (!store.get(name)) await rm(path.join(bundles, name), { recursive: true, force: true });
  }
}
