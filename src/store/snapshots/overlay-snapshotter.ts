// Container roots as overlayfs: the image's layer directories (short links in <root>/l so
// that many layers fit in one page of mount options) below, the container's own upper and
// work dirs above. Every mount's source is "berth-<key>" and its target lies under
// <root>/active, so leftovers are found in /proc/self/mountinfo and swept after a crash.
import { mkdir, readFile, readdir, rm, rmdir, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { digestHex, type Digest } from '../../oci/digest.js';
import { MNT_DETACH, mountAsync, umount, unmountDetached } from '../../sys/fs-native.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { ACTIVE_RECORD, listActiveRecords, readActiveRecord } from './active-records.js';
import { overlayUpperDiff } from './diff-layer.js';
import { LayerDirectoryStore } from './layer-directory-store.js';
import { checkSnapshotKey, type ActiveSnapshot, type PrepareOptions, type Snapshotter } from './snapshotter.js';
import { cannotIdmap, ownByMappedRoot, probeIdmappedMounts, shiftedCopy, unmapOwners, type IdmapMechanism } from './idmapped-layers.js';
import { IdmappedLayerPool, sweepLayerPool } from './idmapped-layer-pool.js';
import { overlayNeedsUserXattr, TRUSTED_OPAQUE_XATTR, USER_OPAQUE_XATTR } from './overlay-xattrs.js';
import type { IdMaps } from '../../sys/idmap.js';
import { BoundedMap } from '../../util/bounded-map.js';

const MAX_MOUNT_DATA = 4000;
/** layer chains whose lower dirs are kept (a few hundred bytes each) */
const MAX_CACHED_CHAINS = 1024;

export class OverlaySnapshotter extends LayerDirectoryStore implements Snapshotter {
  readonly driver = 'overlay' as const;
  protected readonly whiteouts = 'overlay' as const;

  /** keys whose root this process mounted and has not unmounted */
  private readonly mountedKeys = new Set<string>();
  /** lower dirs by top chain ID, with the layerRemovals count they were read at */
  private readonly lowerChains = new BoundedMap<Digest, { dirs: readonly string[]; removals: number }>(MAX_CACHED_CHAINS);

  /** idmapped clones of the layers per id map, reused by every container that gets that map */
  private readonly idmappedLayers: IdmappedLayerPool;
  /** mounted inside a user namespace (rootless): overlay keeps its metadata in user.overlay.* */
  private readonly userXattr: boolean;
  protected override readonly opaqueXattr: string;

  constructor(root: string, options: { userXattr?: boolean } = {}) {
    super(root);
    this.userXattr = options.userXattr ?? overlayNeedsUserXattr();
    this.opaqueXattr = this.userXattr ? USER_OPAQUE_XATTR : TRUSTED_OPAQUE_XATTR;
    this.idmappedLayers = new IdmappedLayerPool(path.join(root, 'm'));
    if (/[,:]/.test(root)) throw invalidArgument('INVALID_SNAPSHOT_ROOT', `overlay snapshot root "${root}" may not contain "," or ":"`);
  }

  protected readonly independentLayers = true;

  protected async seedLayer(): Promise<void> {
    // overlay layer directories hold only their own diff
  }

  private activeDir(key: string): string {
    return path.join(this.root, 'active', checkSnapshotKey(key));
  }

  /** Short link to a layer's fs dir: <root>/l/<first 24 hex of chain ID>. */
  private async shortLink(chainId: Digest): Promise<string> {
    const link = path.join(this.root, 'l', digestHex(chainId).slice(0, 24));
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.relative(path.dirname(link), this.layerFs(chainId)), link).catch((err: unknown) => {
      if (errnoCode(err) !== 'EEXIST') throw err;
    });
    return link;
  }

  /**
   * The lower dirs for a chain, top first, as overlay wants them. Kept per chain: every create
   * of a container mounts one, and a layer once in place changes only by its removal
   * (layerRemovals), so a chain read while no layer was removed stays true.
   */
  private async lowerDirs(parent: Digest | undefined): Promise<readonly string[]> {
    const known = parent === undefined ? undefined : this.lowerChains.get(parent);
    if (known !== undefined && known.removals === this.removals) return known.dirs;
    const removals = this.removals;
    const dirs = await this.readLowerDirs(parent);
    if (parent !== undefined && removals === this.removals) {
      this.lowerChains.set(parent, { dirs, removals });
    }
    return dirs;
  }

  private async readLowerDirs(parent: Digest | undefined): Promise<string[]> {
    const dirs: string[] = [];
    for (let chainId = parent; chainId !== undefined;) {
      const info = await this.layerInfo(chainId);
      dirs.push(await this.shortLink(chainId));
      chainId = info.parent;
      if (dirs.length > 500) throw invalidArgument('TOO_MANY_LAYERS', `layer chain of ${parent} is too long`);
    }
    if (dirs.length === 0) {
      const empty = path.join(this.root, 'empty');
      await mkdir(empty, { recursive: true, mode: 0o755 });
      dirs.push(empty);
    }
    return dirs;
  }

  async prepare(key: string, parent: Digest | undefined, options: PrepareOptions = {}): Promise<ActiveSnapshot> {
    const dir = this.activeDir(key);
    // the directory made first: a new key (every container create) needs no record read
    const existing = await makeDirectory(dir) ? undefined : await this.readActive(key).catch(() => undefined);
    if (existing !== undefined && existing.parent !== parent) {
      throw invalidArgument('SNAPSHOT_EXISTS', `snapshot ${key} exists with another parent (${existing.parent ?? 'none'})`);
    }
    const merged = path.join(dir, 'merged');
    await Promise.all(['upper', 'work', 'merged'].map((sub) => mkdir(path.join(dir, sub), { recursive: true, mode: 0o755 })));
    const snapshot: ActiveSnapshot = existing ?? { key, root: merged, createdAt: Date.now(), ...(parent !== undefined ? { parent } : {}),
      ...(options.idmap ? { idmap: options.idmap } : {}) };
    // durable: false (a root its owner removes after a crash anyway): renamed into place without
    // fsync; a power loss may leave the record torn, and sweep() removes such a directory
    if (existing === undefined) await writeJsonAtomic(path.join(dir, ACTIVE_RECORD), snapshot, 0o644, { durable: options.durable !== false });
    // a new snapshot cannot be mounted yet (a crash's leftover mounts are swept at start):
    // only a root prepared again needs the mountinfo read
    if (existing === undefined || !(await isMountPoint(merged))) {
      const lowers = await this.lowerDirs(parent);
      if (options.idmap) await this.mountIdmapped(key, dir, lowers, options.idmap);
      else await this.mountOverlay(key, dir, lowers);
      this.mountedKeys.add(key);
    }
    return snapshot;
  }

  private async mountOverlay(key: string, dir: string, lowers: readonly string[]): Promise<void> {
    const data = `lowerdir=${lowers.join(':')},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}${this.userXattr ? ',userxattr' : ''}`;
    if (data.length > MAX_MOUNT_DATA) throw invalidArgument('TOO_MANY_LAYERS', `snapshot ${key}: too many layers for one overlay mount`);
    await mountAsync(`berth-${key}`, path.join(dir, 'merged'), 'overlay', 0, data);
  }

  /** How layers of user-namespaced roots are shared: idmapped, or chowned copies where the kernel cannot. */
  idmapMechanism: IdmapMechanism | undefined;

  async probeIdmap(): Promise<IdmapMechanism> {
    this.idmapMechanism = await probeIdmappedMounts(path.join(this.root, 'tmp', 'idmap-probe')) ? 'idmapped-mounts' : 'chowned-copy';
    return this.idmapMechanism;
  }

  /** Lower layers idmapped to the container's ids (or chowned copies as a fallback); upper owned by its root. */
  private async mountIdmapped(key: string, dir: string, lowers: readonly string[], maps: IdMaps): Promise<void> {
    await ownByMappedRoot([path.join(dir, 'upper'), path.join(dir, 'work')], maps);
    if (this.idmapMechanism !== 'chowned-copy') {
      try {
        await this.mountOverlay(key, dir, await this.idmappedLayers.lowersFor(maps, lowers));
        this.idmapMechanism = 'idmapped-mounts';
        return;
      } catch (err) {
        if (!cannotIdmap(err)) throw err;
      }
    }
    this.idmapMechanism = 'chowned-copy';
    const copies: string[] = [];
    for (const lower of lowers) copies.push(await shiftedCopy(this.root, lower, path.basename(lower), maps));
    await this.mountOverlay(key, dir, copies);
  }

  private async readActive(key: string): Promise<ActiveSnapshot> {
    return await readActiveRecord(path.join(this.root, 'active'), key, 'merged');
  }

  async unmount(key: string): Promise<void> {
    const merged = path.join(this.activeDir(key), 'merged');
    // on koffi's worker thread: an overlay's umount waits out RCU grace periods in the kernel
    // (10-30 ms here), which would stall every request in flight; a failure is retried here
    // for its errno. A root this process mounted needs no mountinfo read to know it is mounted
    // (sweep() unmounted those of earlier runs); only a failed umount asks whether it still is
    if (this.mountedKeys.delete(key)) {
      if (!(await unmountDetached(merged)) && await isMountPoint(merged)) umount(merged, MNT_DETACH);
      return;
    }
    if (await isMountPoint(merged) && !(await unmountDetached(merged))) umount(merged, MNT_DETACH);
  }

  async remove(key: string): Promise<void> {
    await this.unmount(key);
    await removeActiveDirectory(this.activeDir(key));
  }

  async listActive(): Promise<ActiveSnapshot[]> {
    return await listActiveRecords(path.join(this.root, 'active'), 'merged');
  }

  async *diff(key: string): AsyncGenerator<Buffer> {
    const idmap = (await this.readActive(key).catch(() => undefined))?.idmap;
    yield* overlayUpperDiff(path.join(this.activeDir(key), 'upper'), idmap ? unmapOwners(idmap) : undefined);
  }

  async sweep(): Promise<void> {
    const activeRoot = path.join(this.root, 'active') + path.sep;
    for (const target of await mountPointsUnder(activeRoot)) umount(target, MNT_DETACH);
    await this.sweepUnrecorded();
    await sweepLayerPool(this.idmappedLayers.root, mountPointsUnder);
    await this.sweepTmp();
  }

  /**
   * Active directories without a readable record: a crash between prepare's mkdir and its
   * record, or a record written without fsync (durable: false) that a power loss tore. Nothing
   * can mount them again (the parent is unknown) and listActive() does not show them.
   */
  private async sweepUnrecorded(): Promise<void> {
    const activeRoot = path.join(this.root, 'active');
    for (const name of await readdir(activeRoot).catch(() => [] as string[])) {
      const readable = await readActiveRecord(activeRoot, name, 'merged').then(() => true, () => false);
      if (!readable) await rm(path.join(activeRoot, name), { recursive: true, force: true });
    }
  }

  keptMounts(): ReadonlySet<string> {
    return this.idmappedLayers.mountedTargets();
  }

  /** berthd stops: the pooled idmapped layer mounts come off. */
  async close(): Promise<void> {
    await this.idmappedLayers.close();
  }

  override async removeLayer(chainId: Digest): Promise<void> {
    // counted before the short link goes: a chain read meanwhile is not kept
    this.removals++;
    const short = digestHex(chainId).slice(0, 24);
    await rm(path.join(this.root, 'l', short), { force: true });
    await this.idmappedLayers.removeLayer(short);
    // the chowned copies of the layer (kernels that cannot idmap), one per id range
    for (const range of await readdir(path.join(this.root, 'shifted')).catch(() => [] as string[])) {
      await rm(path.join(this.root, 'shifted', range, short), { recursive: true, force: true });
    }
    await super.removeLayer(chainId);
  }
}

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded). */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').filter((l) => l !== '').map((line) =>
    (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
}

export async function mountPointsUnder(prefix: string): Promise<string[]> {
  // deepest first, so nested mounts come off before their parents
  return (await mountPoints()).filter((m) => m.startsWith(prefix)).sort((a, b) => b.length - a.length);
}

/**
 * An unmounted root's directory, by its known layout (a third of the calls rm -r makes to
 * find it out): the record first, so a crash midway leaves a directory sweep() removes;
 * anything unexpected (overlay's work entries, a missing part) falls back to rm -r.
 */
async function removeActiveDirectory(dir: string): Promise<void> {
  const removed = await unlink(path.join(dir, ACTIVE_RECORD)).then(async () => {
    // all settled before any fallback: rm -r must not race a removal still on its way
    const parts = await Promise.allSettled([
      rmdir(path.join(dir, 'merged')),
      rmdir(path.join(dir, 'work', 'work')).then(() => rmdir(path.join(dir, 'work'))),
      rm(path.join(dir, 'upper'), { recursive: true, force: true }),
    ]);
    if (parts.some((p) => p.status === 'rejected')) return false;
    await rmdir(dir);
    return true;
  }).catch(() => false);
  if (!removed) await rm(dir, { recursive: true, force: true });
}

/** mkdir (0755, parents as needed); false when it was there already. */
async function makeDirectory(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { mode: 0o755 });
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  // the parent is missing (the first root of a store): made with it
  return await mkdir(dir, { recursive: true, mode: 0o755 }) !== undefined;
}

async function isMountPoint(dir: string): Promise<boolean> {
  if (!(await stat(dir).then(() => true, () => false))) return false;
  return (await mountPoints()).includes(dir);
}
