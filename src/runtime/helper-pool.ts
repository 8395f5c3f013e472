// Warm helpers for a long-lived caller (berthd): berth-helper spawned ahead of the create
// that needs it, waiting for its plan (sys/helper.ts spawnWarmHelper). posix_spawn, the
// exec and the helper's start-up cost ~2-4 ms of every create on this machine; a create
// that finds a warm helper only writes its plan. The pool is refilled after a create's
// container has exited (or run a while), off its path. A warm helper serves creates with
// pipes for stdio, not detached (berthd's containers); others spawn their own as before.
// With `spareNetns` a warm helper also makes the network namespace the next container
// will most likely want (a new one, as the last create did): when the plan does not want
// it, it is closed unused; the prediction decides speed only, never what a container gets.
import { spawnWarmHelper, startHelperAsync, type HelperSession, type HelperStdio, type WarmHelper } from '../sys/helper.js';
import type { PlanOp } from '../sys/plan-writer.js';

export interface HelperStartOptions {
  stdio: HelperStdio;
  detached: boolean;
  executable?: string;
  /** the plan's clone makes a new network namespace (no user namespace): what the next warm helper prepares */
  newNetns: boolean;
}

/** pools with warm helpers: each is closed (its helpers killed and reaped) before this process exits */
const openPools = new Set<HelperPool>();
let exitHooked = false;

function closeAtExit(pool: HelperPool): void {
  openPools.add(pool);
  if (exitHooked) return;
  exitHooked = true;
  // orphans would be zombies under an init that does not reap (this machine's)
  process.once('exit', () => { for (const open of openPools) open.close(); });
}

const REFILL_DELAY_MS = 100;

export class HelperPool {
  private readonly warm: WarmHelper[] = [];
  private spawning = 0;
  private refillQueued = false;
  /** bumped by close(): helpers whose spawn was under way then are discarded when it ends */
  private generation = 0;
  /** spawning failed (no helper binary...): not retried until a create has succeeded */
  private broken = false;
  private spareNetns = false;
  private servable = false;

  /** `size` warm helpers at most; 0 disables the pool */
  constructor(private readonly size: number, private readonly executable: () => string | undefined) {}

  /** A session for `plan`: a warm helper's when one fits, else a freshly spawned one. */
  async start(plan: readonly PlanOp[], options: HelperStartOptions): Promise<HelperSession> {
    this.spareNetns = options.newNetns;
    // creates a warm helper could not serve (e.g. berth-runtime's server: its callers' fds) leave the pool empty
    this.servable = options.stdio === 'pipe' && !options.detached && options.executable === this.executable();
    if (this.size > 0 && this.servable) {
      for (let helper = this.warm.shift(); helper; helper = this.warm.shift()) {
        const session = helper.usable() ? helper.start(plan) : undefined;
        if (session) return session;
        helper.discard();
      }
    }
    return await startHelperAsync(plan, { stdio: options.stdio, detached: options.detached, executable: options.executable });
  }

  /**
   * After a create: top the pool up, on a worker thread, once `ran` (the new container's
   * exit) settles or it has run REFILL_DELAY_MS, whichever comes first: a spawn during the
   * container's first moments would compete with it for the CPU (2 cores here), where a
   * short run's exit is what its caller waits for.
   */
  refill(createSucceeded: boolean, ran?: Promise<unknown>): void {
    if (createSucceeded) this.broken = false;
    if (this.size === 0 || !this.servable || this.broken || this.refillQueued) return;
    this.refillQueued = true;
    let timer: NodeJS.Timeout | undefined;
    const later = new Promise<void>((resolve) => { timer = setTimeout(resolve, ran ? REFILL_DELAY_MS : 0).unref(); });
    void Promise.race([later, ran?.catch(() => undefined) ?? later]).then(() => {
      clearTimeout(timer);
      this.refillQueued = false;
      this.topUp();
    });
  }

  private topUp(): void {
    for (const helper of this.warm.filter((h) => !h.usable())) {
      helper.discard();
      this.warm.splice(this.warm.indexOf(helper), 1);
    }
    const generation = this.generation;
    while (!this.broken && this.warm.length + this.spawning < this.size) {
      this.spawning++;
      closeAtExit(this);
      void spawnWarmHelper({ executable: this.executable(), spareNetns: this.spareNetns }).then((helper) => {
        if (generation === this.generation) this.warm.push(helper);
        else helper.discard();
      }, () => {
        this.broken = true; // the next create spawns its own helper and reports why it cannot
      }).finally(() => { this.spawning--; });
    }
  }

  /** kill and reap every warm helper (later creates refill the pool) */
  close(): void {
    this.generation++;
    for (const helper of this.warm.splice(0)) helper.discard();
  }
}
