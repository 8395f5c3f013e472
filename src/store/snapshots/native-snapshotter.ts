// The copying fallback (containerd's "native"): each layer directory holds the whole tree
// up to that layer, a container root is a full copy. Slow and large, but it works on any
// file system, including ones overlayfs cannot use as upper (e.g. overlay itself, tmpfs
// in some kernels). `cp -a` keeps owners, modes, xattrs, hardlinks and devices.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, notFound } from '../../errors/berth-error.js';
import type { Digest } from '../../oci/digest.js';
import { runProgram } from '../../sys/exec.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { ACTIVE_RECORD, listActiveRecords, readActiveRecord } from './active-records.js';
import { directoryDiff } from './diff-layer.js';
import { LayerDirectoryStore } from './layer-directory-store.js';
import { checkSnapshotKey, type ActiveSnapshot, type PrepareOptions, type Snapshotter } from './snapshotter.js';
import { shiftOwnership } from './idmapped-layers.js';

async function copyTree(from: string, to: string): Promise<void> {
  await runProgram('cp', ['-a', '--reflink=auto', '--', `${from}/.`, `${to}/`]);
}

export class NativeSnapshotter extends LayerDirectoryStore implements Snapshotter {
  readonly driver = 'native' as const;
  protected readonly whiteouts = 'remove' as const;

  /** every container root is a copy of its own: remapped ones are chowned copies */
  async probeIdmap(): Promise<'chowned-copy'> {
    return 'chowned-copy';
  }

  protected readonly independentLayers = false;

  protected async seedLayer(fs: string, parent: Digest | undefined): Promise<void> {
    if (parent !== undefined) await copyTree(this.layerFs(parent), fs);
  }

  private activeDir(key: string): string {
    return path.join(this.root, 'active', checkSnapshotKey(key));
  }

  async prepare(key: string, parent: Digest | undefined, options: PrepareOptions = {}): Promise<ActiveSnapshot> {
    const existing = await this.readActive(key).catch(() => undefined);
    if (existing !== undefined) {
      if (existing.parent !== parent) throw invalidArgument('SNAPSHOT_EXISTS', `snapshot ${key} exists with another parent`);
      return existing;
    }
    if (parent !== undefined && !(await this.hasLayer(parent))) throw notFound('LAYER_NOT_FOUND', `layer ${parent} is not unpacked`);
    const dir = this.activeDir(key);
    const fs = path.join(dir, 'fs');
    await rm(dir, { recursive: true, force: true });
    await mkdir(fs, { recursive: true, mode: 0o755 });
    if (parent !== undefined) await copyTree(this.layerFs(parent), fs);
    // the copy is the container's own: a user-namespaced one gets it chowned to its ids
    if (options.idmap) await shiftOwnership(fs, options.idmap);
    const snapshot: ActiveSnapshot = { key, root: fs, createdAt: Date.now(), ...(parent !== undefined ? { parent } : {}) };
    // written last: a snapshot without active.json is a half-made copy that prepare redoes
    await writeJsonAtomic(path.join(dir, ACTIVE_RECORD), snapshot);
    return snapshot;
  }

  private async readActive(key: string): Promise<ActiveSnapshot> {
    return await readActiveRecord(path.join(this.root, 'active'), key, 'fs');
  }

  async unmount(): Promise<void> {
    // nothing is mounted
  }

  async remove(key: string): Promise<void> {
    await rm(this.activeDir(key), { recursive: true, force: true });
  }

  async listActive(): Promise<ActiveSnapshot[]> {
    return await listActiveRecords(path.join(this.root, 'active'), 'fs');
  }

  async *diff(key: string): AsyncGenerator<Buffer> {
    const snapshot = await this.readActive(key);
    yield* directoryDiff(snapshot.parent === undefined ? undefined : this.layerFs(snapshot.parent), snapshot.root);
  }

  async sweep(): Promise<void> {
    await this.sweepTmp();
  }
}
