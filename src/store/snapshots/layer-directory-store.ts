// The layer half shared by both snapshotters: <root>/layers/<chain hex>/{fs,layer.json},
// unpacked in <root>/tmp and renamed into place only after the diff ID was verified (and,
// when unpacked beside its parent, after the parent is in place).
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode, invalidArgument, notFound, withCleanup } from '../../errors/berth-error.js';
import { digestHex, isDigest, type Digest } from '../../oci/digest.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { applyLayer, type ApplyOptions } from './apply-layer.js';
import { markTopDirectory } from '../../sys/fs-native.js';
import { drain, hashingStream, isLayerBlobFile, type LayerBlobFile, type LayerInfo, type LayerStore, type UnpackLayerOptions } from './snapshotter.js';
import { UnpackPool } from './unpack-pool.js';
import type { TarLimits } from '../archive/tar-reader.js';

export abstract class LayerDirectoryStore implements LayerStore {
  protected readonly layersDir: string;
  protected readonly tmpDir: string;

  constructor(readonly root: string, protected readonly limits?: TarLimits) {
    this.layersDir = path.join(root, 'layers');
    this.tmpDir = path.join(root, 'tmp');
  }

  /** How whiteouts are applied in this store's layer directories. */
  protected abstract readonly whiteouts: ApplyOptions['whiteouts'];
  /** The xattr that marks an opaque layer dir (overlay: trusted or user form); undefined: the default */
  protected readonly opaqueXattr: string | undefined;

  /** worker threads unpacking blob files (started on first use) */
  private unpackPool: UnpackPool | undefined;

  /** see LayerStore.layerRemovals; bumped before a removal starts, so a chain read during one is not kept */
  protected removals = 0;

  get layerRemovals(): number {
    return this.removals;
  }

  /** tmpDir made and marked (once per store; a sweep removes it) */
  private workRootReady: Promise<void> | undefined;

  /** Fill a fresh layer directory before the tar is applied (the copier copies the parent). */
  protected abstract seedLayer(fs: string, parent: Digest | undefined): Promise<void>;
  /** A layer directory holds only its own changes (seedLayer ignores the parent): it can be unpacked before its parent is in place. */
  protected abstract readonly independentLayers: boolean;

  layerDir(chainId: Digest): string {
    return path.join(this.layersDir, digestHex(chainId));
  }

  layerFs(chainId: Digest): string {
    return path.join(this.layerDir(chainId), 'fs');
  }

  async hasLayer(chainId: Digest): Promise<boolean> {
    return await stat(path.join(this.layerDir(chainId), 'layer.json')).then(() => true, () => false);
  }

  async layerInfo(chainId: Digest): Promise<LayerInfo> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path.join(this.layerDir(chainId), 'layer.json'), 'utf8'));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('LAYER_NOT_FOUND', `layer ${chainId} is not unpacked`);
      throw err;
    }
    return parseLayerInfo(raw, chainId);
  }

  async unpackLayer(chainId: Digest, parent: Digest | undefined, diffId: Digest, tar: AsyncIterable<Uint8Array> | LayerBlobFile,
    options: UnpackLayerOptions = {}): Promise<LayerInfo> {
    const { parentCommitted } = options;
    // awaited only after this layer's own work: until then its failure must not count as unhandled
    parentCommitted?.catch(() => undefined);
    if (await this.hasLayer(chainId)) return await this.layerInfo(chainId);
    if (parentCommitted !== undefined && !this.independentLayers) await parentCommitted;
    // unpacked beside a parent still on its way: checked when the parent is done, before the rename
    if (parentCommitted === undefined || !this.independentLayers) await this.checkParent(chainId, parent);
    const work = path.join(this.tmpDir, `${digestHex(chainId).slice(0, 16)}-${randomBytes(4).toString('hex')}`);
    const fs = path.join(work, 'fs');
    await this.prepareWorkRoot();
    return await withCleanup(async () => {
      await mkdir(fs, { recursive: true, mode: 0o755 });
      await this.seedLayer(fs, parent);
      const result = await this.apply(fs, tar);
      const actual = result.diffId;
      if (actual !== diffId) {
        throw invalidArgument('DIFF_ID_MISMATCH', `layer ${chainId}: uncompressed content hashes to ${actual}, expected diff ID ${diffId}`);
      }
      const info: LayerInfo = { chainId, diffId, size: result.size, createdAt: Date.now(), ...(parent !== undefined ? { parent } : {}) };
      await writeJsonAtomic(path.join(work, 'layer.json'), info);
      if (parentCommitted !== undefined && this.independentLayers) {
        await parentCommitted;
        await this.checkParent(chainId, parent);
      }
      await mkdir(this.layersDir, { recursive: true });
      try {
        await rename(work, this.layerDir(chainId));
      } catch (err) {
        // another unpack of the same layer won the race: keep theirs
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'EEXIST') throw err;
        await rm(work, { recursive: true, force: true });
      }
      return info;
    }, async () => { await rm(work, { recursive: true, force: true }); });
  }

  /** Apply the layer to `fs`: a blob file on a worker thread, a stream here; the digest of its uncompressed bytes. */
  private async apply(fs: string, tar: AsyncIterable<Uint8Array> | LayerBlobFile): Promise<{ size: number; diffId: Digest }> {
    const options: ApplyOptions = { whiteouts: this.whiteouts, allowDevices: process.getuid?.() === 0 };
    if (this.opaqueXattr !== undefined) options.opaqueXattr = this.opaqueXattr;
    if (this.limits !== undefined) options.limits = this.limits;
    if (isLayerBlobFile(tar)) {
      this.unpackPool ??= new UnpackPool();
      return await this.unpackPool.run({ ...tar, root: fs, whiteouts: options.whiteouts, allowDevices: options.allowDevices === true,
        ...(options.opaqueXattr !== undefined ? { opaqueXattr: options.opaqueXattr } : {}), ...(options.limits !== undefined ? { limits: options.limits } : {}) });
    }
    const { stream, digester } = hashingStream(tar);
    const result = await applyLayer(fs, stream, options);
    await drain(stream);
    return { size: result.size, diffId: digester.digest() };
  }

  /**
   * The unpack directory, marked as the top of unrelated trees (ext4 +T, where the file system
   * has it): each layer is unpacked in a block group of its own rather than in the crowded
   * one of the store's directory. On ext4 without a journal the allocator skips every inode
   * freed in the last minutes, one inode table lookup each, for every file it creates: in a
   * group where containers and layers come and go that made creating the files most of an
   * unpack's time (tar -x into a plain directory pays it too).
   */
  private async prepareWorkRoot(): Promise<void> {
    this.workRootReady ??= (async () => {
      await mkdir(this.tmpDir, { recursive: true });
      try {
        markTopDirectory(this.tmpDir);
      } catch {
        // a placement hint only: file systems without the flag (tmpfs, xfs...) unpack as well
      }
    })();
    try {
      await this.workRootReady;
    } catch (err) {
      this.workRootReady = undefined;
      throw err;
    }
  }

  private async checkParent(chainId: Digest, parent: Digest | undefined): Promise<void> {
    if (parent !== undefined && !(await this.hasLayer(parent))) {
      throw notFound('LAYER_NOT_FOUND', `cannot unpack layer ${chainId}: parent layer ${parent} is not unpacked`);
    }
  }

  async listLayers(): Promise<LayerInfo[]> {
    const names = await readdir(this.layersDir).catch(() => [] as string[]);
    const out: LayerInfo[] = [];
    for (const name of names) {
      const chainId = `sha256:${name}`;
      if (!isDigest(chainId)) continue;
      const info = await this.layerInfo(chainId).catch(() => undefined);
      if (info !== undefined) out.push(info);
    }
    return out;
  }

  async removeLayer(chainId: Digest): Promise<void> {
    this.removals++;
    const dir = this.layerDir(chainId);
    // rename first so a crash never leaves a half-deleted layer that looks whole
    const doomed = path.join(this.tmpDir, `removed-${digestHex(chainId).slice(0, 16)}-${randomBytes(4).toString('hex')}`);
    await mkdir(this.tmpDir, { recursive: true });
    try {
      await rename(dir, doomed);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /** Delete half-unpacked and half-removed layers left by a crash. */
  protected async sweepTmp(): Promise<void> {
    this.workRootReady = undefined;
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

function parseLayerInfo(raw: unknown, chainId: Digest): LayerInfo {
  if (typeof raw !== 'object' || raw === null) throw invalidArgument('CORRUPT_LAYER_METADATA', `layer ${chainId}: bad layer.json`);
  const r = raw as Record<string, unknown>;
  if (r.chainId !== chainId || !isDigest(r.diffId) || typeof r.size !== 'number' || (r.parent !== undefined && !isDigest(r.parent))) {
    throw invalidArgument('CORRUPT_LAYER_METADATA', `layer ${chainId}: bad layer.json`);
  }
  const info: LayerInfo = { chainId, diffId: r.diffId, size: r.size, createdAt: typeof r.createdAt === 'number' ? r.createdAt : 0 };
  if (isDigest(r.parent)) info.parent = r.parent;
  return info;
}
