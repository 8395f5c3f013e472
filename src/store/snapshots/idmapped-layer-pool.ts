// Idmapped clones of layer directories, kept mounted per id map and reused: a container in
// a user namespace gets its lower layers from <root>/<map key>/<layer>, made by one helper
// run the first time a map meets a layer and never again while berthd runs. Blocks of ids
// are freed and handed out again (`run --rm` in a loop gets the same block each time), so
// the steady state costs no process spawn and no mount beyond the overlay itself.
// Overlay takes private clones of its layers at mount time, so a pooled mount can come off
// (eviction, layer removal, shutdown) while containers still run on it. Everything is
// under `root`; a crashed berthd's leftovers are unmounted by sweep() at the next start.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { errnoCode } from '../../errors/berth-error.js';
import path from 'node:path';
import { MNT_DETACH, umount } from '../../sys/fs-native.js';
import { formatIdMap, mountIdmapped, type IdmapTarget, type IdMaps } from '../../sys/idmap.js';

/** Map sets kept mounted at most (each holds one mount per layer it has met): LRU beyond. */
const DEFAULT_MAX_MAPS = 32;

/** A short, stable name for a set of id maps (part of every overlay mount's option string, so short). */
export function idMapKey(maps: IdMaps): string {
  return createHash('sha256').update(`${formatIdMap(maps.uidMappings)}|${formatIdMap(maps.gidMappings)}`).digest('hex').slice(0, 10);
}

interface PooledMap { layers: Set<string>; lastUsed: number }

/** The mount calls the pool makes (a recording fake in unit tests). */
export interface PoolMounts {
  /** idmapped clones of each source on its target, all in one helper run */
  mountIdmapped(maps: IdMaps, mounts: readonly IdmapTarget[]): Promise<void>;
  /** detach a mount; throws with code EINVAL when target is no mount point */
  unmount(target: string): void;
}

const KERNEL_MOUNTS: PoolMounts = { mountIdmapped, unmount: (target) => { umount(target, MNT_DETACH); } };

/** Mounts the pool made, by map key then layer name; what this process mounted, nothing else. */
export class IdmappedLayerPool {
  private readonly maps = new Map<string, PooledMap>();
  private busy: Promise<unknown> = Promise.resolve();
  private clock = 0;

  constructor(readonly root: string, private readonly maxMaps = DEFAULT_MAX_MAPS, private readonly mounts: PoolMounts = KERNEL_MOUNTS) {}

  /** Mutations one at a time: two starts on one map must not mount the same layer twice. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.busy.then(work, work);
    this.busy = next.catch(() => undefined);
    return next;
  }

  /**
   * Idmapped clones of `lowers` (top first, as given) for `maps`: the pooled ones at once,
   * the missing ones made by one helper run. Each lower's basename names it in the pool.
   */
  lowersFor(maps: IdMaps, lowers: readonly string[]): Promise<string[]> {
    return this.serial(async () => {
      const key = idMapKey(maps);
      const entry = this.maps.get(key) ?? { layers: new Set<string>(), lastUsed: 0 };
      entry.lastUsed = ++this.clock;
      const dir = path.join(this.root, key);
      const targets = lowers.map((lower) => path.join(dir, path.basename(lower)));
      const missing = lowers.map((source, index) => ({ source, target: targets[index] as string }))
        .filter((m) => !entry.layers.has(path.basename(m.target)));
      if (missing.length > 0) {
        for (const m of missing) await mkdir(m.target, { recursive: true, mode: 0o700 });
        this.maps.set(key, entry);
        try {
          await this.mounts.mountIdmapped(maps, missing);
        } catch (err) {
          for (const m of missing) await this.detachAndRemove(m.target);
          throw err;
        }
        for (const m of missing) entry.layers.add(path.basename(m.target));
        await this.evictBeyondLimit(key);
      }
      return targets;
    });
  }

  private async evictBeyondLimit(keep: string): Promise<void> {
    while (this.maps.size > this.maxMaps) {
      const [oldest] = [...this.maps.entries()].filter(([key]) => key !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      if (oldest === undefined) return;
      await this.dropMap(oldest[0]);
    }
  }

  private async dropMap(key: string): Promise<void> {
    const entry = this.maps.get(key);
    this.maps.delete(key);
    for (const layer of entry?.layers ?? []) await this.detachAndRemove(path.join(this.root, key, layer));
    await removeEmptyDir(path.join(this.root, key));
  }

  /** A layer is being removed: its clones of every map come off. */
  removeLayer(name: string): Promise<void> {
    return this.serial(async () => {
      for (const [key, entry] of this.maps) {
        if (!entry.layers.delete(name)) continue;
        await this.detachAndRemove(path.join(this.root, key, name));
      }
    });
  }

  /** berthd stops: every pooled mount comes off (running containers keep their overlay's own clones). */
  close(): Promise<void> {
    return this.serial(async () => {
      for (const key of [...this.maps.keys()]) await this.dropMap(key);
      await removeEmptyDir(this.root);
    });
  }

  /** The mount points of every pooled clone. */
  mountedTargets(): Set<string> {
    return new Set([...this.maps].flatMap(([key, entry]) => [...entry.layers].map((layer) => path.join(this.root, key, layer))));
  }

  /** Which maps and layers are pooled now (for tests and diagnostics). */
  pooled(): Map<string, string[]> {
    return new Map([...this.maps].map(([key, entry]) => [key, [...entry.layers].sort()]));
  }

  /**
   * Unmount a pooled clone and remove its (then empty) mount point. Never a recursive rm: a
   * mount still there would take the layer's own files with it; rmdir fails on it instead.
   */
  private async detachAndRemove(target: string): Promise<void> {
    try {
      this.mounts.unmount(target);
    } catch (err) {
      if (!['EINVAL', 'ENOENT'].includes(errnoCode(err) ?? '')) throw err; // not mounted: a helper run that failed half-way
    }
    await removeEmptyDir(target);
  }
}

async function removeEmptyDir(dir: string): Promise<void> {
  await rmdir(dir).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
}

/** After a crash: every mount left under `root` comes off, then the empty dirs go (deepest first). */
export async function sweepLayerPool(root: string, mountPointsUnder: (prefix: string) => Promise<string[]>): Promise<void> {
  for (const target of await mountPointsUnder(root + path.sep)) umount(target, MNT_DETACH);
  for (const key of await readdir(root).catch(() => [] as string[])) {
    for (const layer of await readdir(path.join(root, key)).catch(() => [] as string[])) await removeEmptyDir(path.join(root, key, layer));
    await removeEmptyDir(path.join(root, key));
  }
  await removeEmptyDir(root);
}
