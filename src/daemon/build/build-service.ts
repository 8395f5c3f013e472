// The build service: adapts the image store (content, snapshots, metadata) and the runtime
// to the builder's backends, owns the persistent build cache, and takes API build requests
// (a context tarball plus the classic builder's parameters). The /build route calls
// buildImage(); /build/prune calls prune().
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { internal, isBerthError } from '../../errors/berth-error.js';
import { isDigest, type Digest } from '../../oci/digest.js';
import type { Descriptor, ImageConfig } from '../../oci/image.js';
import { parseNormalizedReference } from '../../oci/reference.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { BuildBackends, BuildEvent, ImageBackend, RootfsBackend, WritableRoot } from '../../build/backends.js';
import { BuildCache, type CacheEntry } from '../../build/cache/build-cache.js';
import { pruneFilters } from './prune-filters.js';
import { extractTarContext, readDockerfile, type BuildContext } from '../../build/context/context.js';
import { openRemoteContext } from '../../build/context/remote.js';
import { SlabPool } from '../../build/context/slab-pool.js';
import { runBuild, type BuildResult } from '../../build/evaluator/evaluator.js';
import type { ImageService } from '../images/image-service.js';
import { storeLayerTar } from '../images/layers.js';
import { RuntimeRunBackend, type BuildNetwork } from './run-backend.js';
import { PhaseTimer, type PhaseSink } from '../../util/phase-timer.js';

/** diff IDs of a layer tar that holds nothing (end-of-archive blocks, with or without record padding) */
const EMPTY_DIFF_IDS = new Set([1024, 10240].map((n) => `sha256:${createHash('sha256').update(Buffer.alloc(n)).digest('hex')}`));

export interface BuildServiceOptions {
  images: ImageService;
  runtime: Runtime;
  /** persistent build state: cache entries, RUN cache mounts (e.g. /var/lib/berth/build) */
  dataRoot: string;
  /** transient state: bundles, extracted contexts (e.g. /run/berth/build) */
  runRoot: string;
  cgroupParent?: string;
  network?: BuildNetwork;
  /** pull an image into the store (registry access lives in the daemon) */
  pull?: (reference: string, onProgress: (text: string) => void) => Promise<void>;
  /** cap of the build cache in bytes (LRU pruning after each build) */
  cacheMaxBytes?: number;
  /** where the phases of each build go (berthd logs them at debug level) */
  trace?: PhaseSink;
}

/** What POST /build carries, already decoded from the query string. */
export interface BuildApiRequest {
  /** the context tarball (plain or gzip) */
  context: Readable | Uint8Array;
  /** path of the Dockerfile inside the context (`dockerfile` query parameter) */
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string | undefined>;
  target?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  /** `networkmode`: default, none, host */
  network?: string;
  platform?: string;
  /** `--progress=plain`: a line per step that says why the cache missed */
  explainCache?: boolean;
  secrets?: Record<string, string>;
  /** `remote=`: a git repository or an http(s) context; the body is then ignored */
  remote?: string;
  /** `--cache-from` image names */
  cacheFrom?: string[];
}

class StoreImageBackend implements ImageBackend {
  /** layers this process created, by diff ID, until an image records them */
  readonly newLayers = new Map<string, Descriptor>();

  constructor(private readonly images: ImageService, private readonly pull: BuildServiceOptions['pull']) {}

  async resolve(reference: string, options: { pull: boolean; onProgress: (text: string) => void }): Promise<BuildImage> {
    if (options.pull && this.pull) await this.pull(reference, options.onProgress);
    try {
      const { record, config } = await this.images.resolve(reference);
      return { id: record.id, config };
    } catch (err) {
      if (!isBerthError(err, 'not_found') || !this.pull || options.pull) throw err;
      await this.pull(reference, options.onProgress);
      const { record, config } = await this.images.resolve(reference);
      return { id: record.id, config };
    }
  }

  async get(id: string): Promise<BuildImage | undefined> {
    if (!isDigest(id)) return undefined;
    try {
      return { id, config: await this.images.readConfig(id) };
    } catch {
      return undefined;
    }
  }

  async find(reference: string): Promise<BuildImage | undefined> {
    try {
      const { record, config } = await this.images.resolve(reference);
      return { id: record.id, config };
    } catch (err) {
      if (isBerthError(err, 'not_found') || isBerthError(err, 'invalid_argument')) return undefined;
      throw err;
    }
  }

  async store(config: ImageConfig, parent: string | undefined, layerSource?: string): Promise<string> {
    const parentLayers = parent === undefined ? [] : await this.layersOf(parent);
    const borrowed = new Map<string, Descriptor>();
    if (layerSource !== undefined) {
      const source = await this.images.resolve(layerSource);
      const layers = await this.layersOf(layerSource);
      source.config.rootfs.diff_ids.forEach((diffId, i) => { const d = layers[i]; if (d) borrowed.set(diffId, d); });
    }
    const added = config.rootfs.diff_ids.slice(parentLayers.length).map((diffId) => {
      const descriptor = this.newLayers.get(diffId) ?? borrowed.get(diffId);
      if (!descriptor) throw internal('BUILD_LAYER_UNKNOWN', `build layer ${diffId} is not in the content store`);
      return descriptor;
    });
    const record = await this.images.createImage({
      config, layers: [...parentLayers, ...added], ...(parent !== undefined && isDigest(parent) ? { parent: parent as Digest } : {}),
    });
    return record.id;
  }

  private async layersOf(image: string): Promise<Descriptor[]> {
    return (await this.images.readManifest((await this.images.resolve(image)).record.manifest)).layers;
  }

  async tag(id: string, reference: string): Promise<void> {
    parseNormalizedReference(reference);
    await this.images.tag(id, reference);
  }
}

type BuildImage = { id: string; config: ImageConfig };

class SnapshotRootfsBackend implements RootfsBackend {
  constructor(private readonly images: ImageService, private readonly layers: Map<string, Descriptor>) {}

  async prepare(imageId: string | undefined, _purpose: string): Promise<WritableRoot> {
    const key = `berth-build-${randomBytes(8).toString('hex')}`;
    const rootfs = this.images.rootfs();
    const root = await rootfs.mount(key, imageId);
    let released = false;
    return {
      path: root,
      commit: async () => {
        // uncompressed, as dockerd keeps local layers: no gzip on the build's hot path
        const stored = await storeLayerTar(this.images.content, this.images.tmpDir, rootfs.diff(key), { compress: false });
        if (EMPTY_DIFF_IDS.has(stored.diffId)) return undefined;
        this.layers.set(stored.diffId, stored.descriptor);
        return { diffId: stored.diffId, size: stored.uncompressedSize };
      },
      release: async () => {
        if (released) return;
        released = true;
        await rootfs.unmount(key);
        await rootfs.remove(key);
      },
    };
  }
}

export class BuildService {
  private readonly runner: RuntimeRunBackend;
  /** builds in progress (and their housekeeping), so shutdown can wait for their cleanup */
  private readonly active = new Set<Promise<unknown>>();
  /** where context bodies are copied as they arrive, reused build after build */
  private readonly slabs = new SlabPool();

  private constructor(private readonly options: BuildServiceOptions, readonly cache: BuildCache, private readonly imageBackend: StoreImageBackend) {
    this.runner = new RuntimeRunBackend({
      runtime: options.runtime,
      bundleRoot: path.join(options.runRoot, 'bundles'),
      cgroupParent: options.cgroupParent ?? '/berth',
      ...(options.network ? { network: options.network } : {}),
    });
  }

  /** Daemon stop: end the RUN steps still running and wait until their builds have cleaned up. */
  async shutdown(): Promise<void> {
    await this.runner.killAll();
    await Promise.allSettled([...this.active]);
  }

  static async open(options: BuildServiceOptions): Promise<BuildService> {
    // contexts a crashed daemon left half cleaned up (no build runs before open)
    await rm(path.join(options.runRoot, 'contexts'), { recursive: true, force: true });
    const cache = await BuildCache.open(path.join(options.dataRoot, 'cache'), options.cacheMaxBytes);
    return new BuildService(options, cache, new StoreImageBackend(options.images, options.pull));
  }

  backends(): BuildBackends {
    return {
      images: this.imageBackend,
      rootfs: new SnapshotRootfsBackend(this.options.images, this.imageBackend.newLayers),
      runner: this.runner,
    };
  }

  /**
   * Run a build. It returns once the image is stored and tagged; the housekeeping after it
   * (the context's scratch files, the cache's use times, LRU pruning) goes on off the
   * client's wait, and shutdown() waits for it. A crash in between leaves at most a
   * scratch directory (swept at the next start) and use times a build older.
   */
  async build(request: BuildApiRequest, onEvent: (event: BuildEvent) => void): Promise<BuildResult> {
    const trace = new PhaseTimer(this.options.trace ?? (() => undefined), 'build ');
    let built!: (result: BuildResult) => void;
    const result = new Promise<BuildResult>((resolve) => { built = resolve; });
    const running = this.runBuildRequest(request, onEvent, trace, built);
    this.active.add(running);
    void running.then(() => this.active.delete(running), () => this.active.delete(running));
    // a failure (before or after the build) rejects here; otherwise the build's result comes first
    return await Promise.race([result, running.then(() => result)]);
  }

  private async runBuildRequest(request: BuildApiRequest, onEvent: (event: BuildEvent) => void, trace: PhaseTimer,
    built: (result: BuildResult) => void): Promise<void> {
    const { context, dockerfileName } = await this.openContext(request);
    trace.mark('context');
    try {
      const dockerfile = await readDockerfile(context, dockerfileName);
      trace.mark('dockerfile');
      built(await runBuild({
        dockerfile: dockerfile.content, context, buildArgs: request.buildArgs ?? {}, tags: request.tags ?? [],
        target: request.target, labels: request.labels ?? {}, noCache: request.noCache ?? false, pull: request.pull ?? false,
        platform: request.platform, network: request.network, secrets: request.secrets ?? {}, explainCache: request.explainCache ?? false,
        ...(request.cacheFrom ? { cacheFrom: request.cacheFrom } : {}),
      }, { backends: this.backends(), cache: this.cache, cacheMountDir: path.join(this.options.dataRoot, 'cache-mounts'), trace }, onEvent));
      trace.total('built');
    } finally {
      await this.cache.flush();
      await context.cleanup();
      trace.mark('context-cleanup');
    }
    await this.cache.prune();
    trace.mark('cache-prune');
  }

  private async openContext(request: BuildApiRequest): Promise<{ context: BuildContext; dockerfileName: string }> {
    const dockerfileName = request.dockerfile || 'Dockerfile';
    const scratch = path.join(this.options.runRoot, 'contexts');
    if (request.remote) {
      const remote = await openRemoteContext(request.remote, dockerfileName, scratch);
      return { context: remote.context, dockerfileName: remote.dockerfile };
    }
    return { context: await extractTarContext(request.context, dockerfileName, scratch, { slabs: this.slabs }), dockerfileName };
  }

  /**
   * `docker builder prune`: without `all`, entries whose image carries a tag (a build's
   * result) stay; `keepStorage` keeps the most recently used entries up to that many bytes;
   * `filters.until` only takes entries unused since then. Oldest entries go first.
   */
  async prune(options: { all?: boolean; keepStorage?: number; filters?: Record<string, string[]> } = {}): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    const { usedBefore } = pruneFilters(options.filters ?? {});
    const removed = await this.cache.prune({
      all: true,
      ...(options.keepStorage !== undefined && options.keepStorage > 0 ? { keepBytes: options.keepStorage } : {}),
      ...(usedBefore !== undefined ? { usedBefore } : {}),
      ...(options.all ? {} : { eligible: async (entry: CacheEntry) => !(await this.isTagged(entry.imageId)) }),
    });
    return { CachesDeleted: removed.map((e) => e.key), SpaceReclaimed: removed.reduce((sum, e) => sum + e.size, 0) };
  }

  private async isTagged(imageId: string): Promise<boolean> {
    try {
      return (await this.options.images.inspect(imageId)).RepoTags.length > 0;
    } catch {
      return false;
    }
  }
}

/** The entry point for the /build route. */
export async function buildImage(request: BuildApiRequest, service: BuildService, onEvent: (event: BuildEvent) => void): Promise<BuildResult> {
  return await service.build(request, onEvent);
}
