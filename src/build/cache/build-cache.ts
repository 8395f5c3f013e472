// The build cache, classic-builder semantics: a step is reused when its parent image, its
// instruction (as evaluated) and its inputs (COPY/ADD content, build args) are the same.
// One small JSON file per entry under the cache dir, so it survives daemon restarts;
// least-recently-used pruning keeps it under a size cap. On a miss it can say why. A hit
// only moves the entry file's mtime (its last use), once per build, not its JSON.
import { open, readdir, rm, utimes, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { errnoCode } from '../../errors/berth-error.js';

const entrySchema = z.object({
  key: z.string().regex(/^[a-f0-9]{64}$/),
  parent: z.string(),
  instruction: z.string(),
  inputs: z.record(z.string(), z.string()),
  imageId: z.string(),
  size: z.number().nonnegative(),
  created: z.number(),
  lastUsed: z.number(),
});
export type CacheEntry = z.infer<typeof entrySchema>;

export interface StepIdentity {
  /** id of the image the step runs on */
  parent: string;
  /** the instruction text as written (for explanations) */
  instruction: string;
  /** everything that determines the result: history text, config, flags */
  definition: string;
  /** named inputs (files -> checksum, `arg:NAME` -> value) */
  inputs: ReadonlyMap<string, string>;
}

/** Inputs beyond this many are folded into the key but not kept per name. */
const MAX_EXPLAINED_INPUTS = 20_000;

export function stepKey(step: StepIdentity): string {
  const hash = createHash('sha256');
  hash.update(`${step.parent}\n${step.definition}\n`);
  for (const [name, value] of [...step.inputs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(`${name}\0${value}\n`);
  return hash.digest('hex');
}

function describeInputChange(before: Record<string, string>, after: ReadonlyMap<string, string>): string | undefined {
  const changes: string[] = [];
  for (const [name, value] of after) {
    const old = before[name];
    const label = name.startsWith('arg:') ? `build arg ${name.slice(4)}` : `file ${name}`;
    if (old === undefined) changes.push(`${label} added`);
    else if (old !== value) changes.push(name.startsWith('arg:') ? `${label} changed (${old} -> ${value})` : `${label} changed`);
  }
  for (const name of Object.keys(before)) {
    if (!after.has(name)) changes.push(`${name.startsWith('arg:') ? `build arg ${name.slice(4)}` : `file ${name}`} removed`);
  }
  if (changes.length === 0) return undefined;
  return changes.length > 3 ? `${changes.slice(0, 3).join(', ')} and ${changes.length - 3} more changes` : changes.join(', ');
}

export class BuildCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** entries used since the last flush, whose file mtime is behind their lastUsed */
  private readonly touched = new Set<CacheEntry>();

  private constructor(private readonly dir: string, private readonly maxBytes: number) {}

  /** Load the cache kept in `dir`; unreadable entries (a crash mid-write) are dropped. */
  static async open(dir: string, maxBytes = 20 * 1024 ** 3): Promise<BuildCache> {
    const cache = new BuildCache(dir, maxBytes);
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const file = await open(path.join(dir, name), 'r');
        try {
          const entry = entrySchema.parse(JSON.parse(await file.readFile('utf8')));
          // a use after the entry was written is its file mtime (flush); utimes passes seconds as a float, so round
          entry.lastUsed = Math.max(entry.lastUsed, Math.round((await file.stat()).mtimeMs));
          cache.entries.set(entry.key, entry);
        } finally {
          await file.close();
        }
      } catch {
        await rm(path.join(dir, name), { force: true });
      }
    }
    return cache;
  }

  get size(): number { return [...this.entries.values()].reduce((sum, e) => sum + e.size, 0); }
  get count(): number { return this.entries.size; }

  /** every entry, for `system df` */
  list(): CacheEntry[] {
    return [...this.entries.values()];
  }

  lookup(step: StepIdentity): CacheEntry | undefined {
    return this.entries.get(stepKey(step));
  }

  /**
   * Mark an entry used (LRU). Nothing is written until flush(): a lost update only ages
   * the entry, so a cached build does no file I/O per step.
   */
  touch(entry: CacheEntry): void {
    entry.lastUsed = Date.now();
    this.touched.add(entry);
  }

  /** Record the uses since the last flush: each entry file's mtime becomes its last use. */
  async flush(): Promise<void> {
    const touched = [...this.touched];
    this.touched.clear();
    await Promise.all(touched.map(async (entry) => {
      const when = new Date(entry.lastUsed);
      await utimes(path.join(this.dir, `${entry.key}.json`), when, when).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err;
      });
    }));
  }

  async forget(entry: CacheEntry): Promise<void> {
    this.entries.delete(entry.key);
    this.touched.delete(entry);
    await rm(path.join(this.dir, `${entry.key}.json`), { force: true });
  }

  async record(step: StepIdentity, imageId: string, size: number): Promise<CacheEntry> {
    const now = Date.now();
    const inputs = step.inputs.size <= MAX_EXPLAINED_INPUTS ? Object.fromEntries(step.inputs) : {};
    const entry: CacheEntry = { key: stepKey(step), parent: step.parent, instruction: step.instruction, inputs, imageId, size, created: now, lastUsed: now };
    this.entries.set(entry.key, entry);
    await writeJsonAtomic(path.join(this.dir, `${entry.key}.json`), entry);
    return entry;
  }

  /** Why a step missed: the input that changed, or that nothing like it was built on this parent. */
  explainMiss(step: StepIdentity): string {
    const sameParent = [...this.entries.values()].filter((e) => e.parent === step.parent && e.instruction === step.instruction);
    const latest = sameParent.sort((a, b) => b.lastUsed - a.lastUsed)[0];
    if (latest) return describeInputChange(latest.inputs, step.inputs) ?? 'the evaluated instruction changed (variables or config)';
    if ([...this.entries.values()].some((e) => e.instruction === step.instruction)) return 'the parent image changed';
    return 'no earlier build of this step';
  }

  /**
   * Remove least-recently-used entries until the cache holds at most `keepBytes` (default:
   * the configured cap, 0 with `all`). Only entries `eligible` says yes to (default: all)
   * and, with `usedBefore`, last used before that time may go. Returns the removed entries.
   */
  async prune(options: PruneOptions = {}): Promise<CacheEntry[]> {
    const limit = options.keepBytes ?? (options.all ? 0 : this.maxBytes);
    const byAge = [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed || a.created - b.created);
    const removed: CacheEntry[] = [];
    let total = this.size;
    for (const entry of byAge) {
      if (total <= limit && !(options.all && limit === 0)) break;
      if (options.usedBefore !== undefined && entry.lastUsed >= options.usedBefore) continue;
      if (options.eligible && !(await options.eligible(entry))) continue;
      await this.forget(entry);
      total -= entry.size;
      removed.push(entry);
    }
    return removed;
  }
}

export interface PruneOptions {
  /** no size floor: remove every eligible entry (unless keepBytes says otherwise) */
  all?: boolean;
  /** stop once the cache holds at most this many bytes */
  keepBytes?: number;
  /** only entries last used before this time (ms since the epoch): `--filter until=` */
  usedBefore?: number;
  /** entries that may go (`builder prune` without -a keeps those of tagged images) */
  eligible?: (entry: CacheEntry) => Promise<boolean> | boolean;
}
