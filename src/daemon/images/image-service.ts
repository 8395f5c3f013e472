// The images service: engine-level image operations over the three stores (content,
// snapshots, metadata). The API routes, the containers service, pull/push and the builder
// use it through small adapters (pullStore, pushStore, lookup, rootfs, committer).
import path from 'node:path';
import { conflict, invalidArgument, isBerthError, notFound } from '../../errors/berth-error.js';
import { digestHex, isDigest, shortDigest, type Digest } from '../../oci/digest.js';
import {
  formatPlatform, hostPlatform, isIndexMediaType, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, MediaType, parseImageConfig,
  parseManifestOrIndex, selectPlatformManifest, type ContainerConfig, type Descriptor, type ImageConfig, type Manifest, type Platform,
} from '../../oci/image.js';
import {
  familiarString, formatReference, parseNormalizedReference, parseReference, repositoryName, type ImageReference,
} from '../../oci/reference.js';
import type { ContentStore } from '../../store/content/content-store.js';
import { FileContentStore, writeBlob } from '../../store/content/file-content-store.js';
import { collectGarbage, type GcResult } from '../../store/metadata/gc.js';
import { ImageMetadataStore, type ImageRecord } from '../../store/metadata/image-metadata.js';
import { NativeSnapshotter } from '../../store/snapshots/native-snapshotter.js';
import { OverlaySnapshotter } from '../../store/snapshots/overlay-snapshotter.js';
import { chainIds, type Snapshotter } from '../../store/snapshots/snapshotter.js';
import { digestOf } from '../../oci/digest.js';
import { toHistory, toInspect, toSummary, type DeleteResponseItem, type HistoryItem, type ImageFacts, type ImageInspect, type ImageSummary } from './image-json.js';
import { storeLayerTar, unpackLayers } from './layers.js';
import type { PushStore } from './push.js';
import type { IdMaps } from '../../sys/idmap.js';
import { BoundedMap } from '../../util/bounded-map.js';

/** images whose unpacked chain is kept (ImageService.unpackedImages; ~100 bytes each) */
const MAX_CACHED_IMAGES = 1024;

export interface ImageUser {
  containerId: string;
  running: boolean;
}

export interface ImageServiceOptions {
  /** image data root, e.g. /var/lib/berth/image */
  root: string;
  driver?: 'overlay' | 'native';
  platform?: Platform;
  /** containers using an image (Docker's rmi conflict rules); bound late by the composition root */
  imageUsers?: (imageId: Digest) => Promise<ImageUser[]>;
}

export interface ResolvedImage {
  record: ImageRecord;
  config: ImageConfig;
}

export interface NewImage {
  config: ImageConfig;
  /** the config exactly as received (load keeps its bytes, so the image ID stays the same) */
  configBytes?: Buffer;
  layers: Descriptor[];
  parent?: Digest;
  /** names (tags or name@digest) to point at the new image */
  names?: ImageReference[];
}

export class ImageService {
  readonly content: FileContentStore;
  readonly snapshotter: Snapshotter;
  readonly metadata: ImageMetadataStore;
  readonly platform: Platform;
  readonly tmpDir: string;
  private readonly configCache = new Map<Digest, ImageConfig>();
  /**
   * Images found unpacked: id -> top chain ID, with the snapshotter's layerRemovals count at
   * the time. Every container create mounts its image's chain; this spares it reading and
   * re-hashing the manifest and checking each layer. Blobs are verified on write and not
   * trusted on read: what is kept here was verified when first read (manifest digest, config
   * digest, each layer's diff ID at unpack) and is kept only while this daemon runs. An image's
   * chain follows from its config (its id), so only a removal of the image or of a layer ends
   * an entry.
   */
  private readonly unpackedImages = new BoundedMap<Digest, { top: Digest | undefined; layerRemovals: number }>(MAX_CACHED_IMAGES);
  /** grows with every image removal: an unpack that saw one happen is not kept */
  private imageRemovals = 0;
  private imageUsers: (imageId: Digest) => Promise<ImageUser[]>;

  constructor(options: ImageServiceOptions) {
    const driver = options.driver ?? 'overlay';
    this.content = new FileContentStore(path.join(options.root, 'content'));
    this.snapshotter = driver === 'overlay'
      ? new OverlaySnapshotter(path.join(options.root, 'snapshots', 'overlay'))
      : new NativeSnapshotter(path.join(options.root, 'snapshots', 'native'));
    this.metadata = new ImageMetadataStore(path.join(options.root, 'metadata'));
    this.platform = options.platform ?? hostPlatform();
    this.tmpDir = path.join(options.root, 'tmp');
    this.imageUsers = options.imageUsers ?? (async () => []);
  }

  /** Bind the containers service's answer to "which containers use this image". */
  setImageUsers(users: (imageId: Digest) => Promise<ImageUser[]>): void {
    this.imageUsers = users;
  }

  /** Startup after a crash: unmount leftovers, drop half-unpacked layers and week-old ingests. */
  async recover(): Promise<void> {
    await this.snapshotter.sweep();
    await this.content.sweepIngests(7 * 24 * 3600 * 1000);
  }

  async readConfig(id: Digest): Promise<ImageConfig> {
    const cached = this.configCache.get(id);
    if (cached !== undefined) return cached;
    const config = parseImageConfig(await this.content.readBlob(id, MAX_CONFIG_BYTES), `image config ${id}`);
    if (this.configCache.size > 256) this.configCache.clear();
    this.configCache.set(id, config);
    return config;
  }

  async readManifest(descriptor: Descriptor): Promise<Manifest> {
    const doc = parseManifestOrIndex(await this.content.readBlob(descriptor.digest, MAX_MANIFEST_BYTES), descriptor.mediaType,
      `manifest ${descriptor.digest}`);
    if (doc.kind !== 'manifest') throw invalidArgument('NOT_A_MANIFEST', `${descriptor.digest} is an index, not a manifest`);
    return doc.manifest;
  }

  /** Docker's lookup order: full ID, then a name (tag or digest), then an unambiguous ID prefix. */
  async resolve(text: string): Promise<ResolvedImage> {
    const record = await this.findRecord(text);
    if (record === undefined) throw notFound('NO_SUCH_IMAGE', `No such image: ${dockerNotFoundName(text)}`);
    return { record, config: await this.readConfig(record.id) };
  }

  private async findRecord(text: string): Promise<ImageRecord | undefined> {
    if (isDigest(text)) {
      const byId = await this.metadata.getImage(text).catch(() => undefined);
      if (byId !== undefined) return byId;
    }
    let ref: ImageReference | undefined;
    try {
      ref = parseNormalizedReference(text);
    } catch {
      ref = undefined;
    }
    if (ref !== undefined) {
      const found = await this.findByReference(ref);
      if (found !== undefined) return found;
    }
    const prefix = /^(sha256:)?([a-f0-9]{1,64})$/.exec(text)?.[2];
    if (prefix === undefined) return undefined;
    const matches = (await this.metadata.listImages()).filter((r) => digestHex(r.id).startsWith(prefix));
    if (matches.length > 1) throw invalidArgument('AMBIGUOUS_IMAGE_ID', `image ID prefix "${text}" is ambiguous (${matches.length} images)`);
    return matches[0];
  }

  private async findByReference(ref: ImageReference): Promise<ImageRecord | undefined> {
    const key = ref.digest !== undefined ? `${repositoryName(ref)}@${ref.digest}` : formatReference(ref);
    const id = await this.metadata.getName(key);
    if (id !== undefined) return await this.metadata.getImage(id).catch(() => undefined);
    if (ref.digest === undefined) return undefined;
    return (await this.metadata.listImages()).find((r) => r.manifest.digest === ref.digest || r.index?.digest === ref.digest);
  }

  /** Names pointing at each image, split into familiar tags and digests. */
  private async namesById(): Promise<Map<Digest, { tags: string[]; digests: string[] }>> {
    const out = new Map<Digest, { tags: string[]; digests: string[] }>();
    for (const [name, id] of await this.metadata.listNames()) {
      const entry = out.get(id) ?? { tags: [], digests: [] };
      const ref = parseReference(name);
      (ref.digest !== undefined ? entry.digests : entry.tags).push(familiarString(ref));
      out.set(id, entry);
    }
    return out;
  }

  private async layerSizes(): Promise<Map<Digest, number>> {
    return new Map((await this.snapshotter.listLayers()).map((l) => [l.chainId, l.size]));
  }

  private async facts(record: ImageRecord, names?: { tags: string[]; digests: string[] }, layerSizes?: Map<Digest, number>): Promise<ImageFacts> {
    const config = await this.readConfig(record.id);
    const n = names ?? (await this.namesById()).get(record.id) ?? { tags: [], digests: [] };
    const facts: ImageFacts = {
      id: record.id, config, repoTags: n.tags.sort(), repoDigests: n.digests.sort(),
      size: await this.imageSize(record, config, layerSizes ?? await this.layerSizes()), graphDriver: { Name: this.snapshotter.driver, Data: null },
    };
    if (record.parent !== undefined) facts.parent = record.parent;
    if (record.lastTagTime !== undefined) facts.lastTagTime = record.lastTagTime;
    return facts;
  }

  /** Unpacked size when the layers are unpacked, else the sum of the blobs. */
  private async imageSize(record: ImageRecord, config: ImageConfig, layers: Map<Digest, number>): Promise<number> {
    let size = 0;
    for (const chainId of chainIds(config.rootfs.diff_ids)) {
      const s = layers.get(chainId);
      if (s === undefined) return (await this.readManifest(record.manifest).catch(() => undefined))?.layers.reduce((a, l) => a + l.size, 0) ?? 0;
      size += s;
    }
    return size;
  }

  async list(options: { all?: boolean; dangling?: boolean; reference?: string } = {}): Promise<ImageSummary[]> {
    const names = await this.namesById();
    const sizes = await this.layerSizes();
    const out: ImageSummary[] = [];
    const records = await this.metadata.listImages();
    // untagged parents are a build's intermediate images: docker shows them only with --all
    const parents = new Set(records.map((r) => r.parent).filter((p) => p !== undefined));
    for (const record of records) {
      const n = names.get(record.id) ?? { tags: [], digests: [] };
      if (options.all !== true && n.tags.length === 0 && n.digests.length === 0 && parents.has(record.id)) continue;
      if (options.dangling === true && n.tags.length > 0) continue;
      if (options.dangling === false && n.tags.length === 0) continue;
      let shown = n;
      if (options.reference !== undefined) {
        // as dockerd: only images with a matching name, and only the matching names in their rows
        const pattern = options.reference;
        shown = { tags: n.tags.filter((t) => matchesReference(t, pattern)), digests: n.digests.filter((d) => matchesReference(d, pattern)) };
        if (shown.tags.length === 0 && shown.digests.length === 0) continue;
      }
      out.push(toSummary(await this.facts(record, shown, sizes)));
    }
    return out.sort((a, b) => b.Created - a.Created);
  }

  async inspect(text: string): Promise<ImageInspect> {
    let resolved: ResolvedImage;
    try {
      resolved = await this.resolve(text);
    } catch (err) {
      // dockerd's inspect words it twice: "no such image: x: No such image: x:latest"
      if (isBerthError(err, 'not_found')) throw notFound('NO_SUCH_IMAGE', `no such image: ${text}: ${err.message}`, { cause: err });
      throw err;
    }
    return toInspect(await this.facts(resolved.record));
  }

  async history(text: string): Promise<HistoryItem[]> {
    const { record, config } = await this.resolve(text);
    const layers = await this.layerSizes();
    const sizes = chainIds(config.rootfs.diff_ids).map((c) => layers.get(c) ?? 0);
    return toHistory(await this.facts(record, undefined, layers), sizes);
  }

  /** The local tags of a repository, sorted (push --all-tags). */
  async tagsOf(repository: ImageReference): Promise<string[]> {
    const prefix = `${repositoryName(repository)}:`;
    return [...(await this.metadata.listNames()).keys()]
      .filter((name) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/'))
      .map((name) => name.slice(prefix.length)).sort();
  }

  /** `docker tag SOURCE TARGET`. */
  async tag(source: string, target: string): Promise<void> {
    const { record } = await this.resolve(source);
    const ref = parseNormalizedReference(target);
    if (ref.digest !== undefined) throw invalidArgument('INVALID_TAG', `refusing to create a tag with a digest reference: ${target}`);
    await this.setNames(record.id, [ref]);
  }

  /** Point names at an image and stamp LastTagTime. */
  async setNames(id: Digest, refs: readonly ImageReference[]): Promise<void> {
    if (refs.length === 0) return;
    const changes = new Map<string, Digest>();
    for (const ref of refs) changes.set(ref.digest !== undefined ? `${repositoryName(ref)}@${ref.digest}` : formatReference(ref), id);
    await this.metadata.updateNames(changes);
    const record = await this.metadata.getImage(id);
    await this.metadata.putImage({ ...record, lastTagTime: Date.now() });
  }

  /**
   * Record an image whose manifest and config are in the content store (layers need not be
   * unpacked yet). An existing record keeps its creation time and gains the index.
   */
  async registerImage(manifestDescriptor: Descriptor, extra: { index?: Descriptor; parent?: Digest } = {}): Promise<ImageRecord> {
    const manifest = await this.readManifest(manifestDescriptor);
    const id = manifest.config.digest;
    const config = await this.readConfig(id);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw invalidArgument('LAYER_COUNT_MISMATCH', `manifest ${manifestDescriptor.digest} has ${manifest.layers.length} layers, its config ${config.rootfs.diff_ids.length} diff_ids`);
    }
    for (const layer of manifest.layers) await this.content.info(layer.digest);
    const existing = await this.metadata.getImage(id).catch(() => undefined);
    const record: ImageRecord = {
      id, manifest: stripDescriptor(manifestDescriptor), repoDigests: existing?.repoDigests ?? [], createdAt: existing?.createdAt ?? Date.now(),
    };
    const index = extra.index ?? existing?.index;
    if (index !== undefined) record.index = stripDescriptor(index);
    const parent = extra.parent ?? existing?.parent;
    if (parent !== undefined) record.parent = parent;
    if (existing?.lastTagTime !== undefined) record.lastTagTime = existing.lastTagTime;
    await this.metadata.putImage(record);
    return record;
  }

  /** Write config + OCI manifest for new layers (build, commit, import, load) and record the image. */
  async createImage(image: NewImage): Promise<ImageRecord> {
    const configBytes = image.configBytes ?? Buffer.from(JSON.stringify(image.config));
    const configDescriptor: Descriptor = { mediaType: MediaType.ociConfig, digest: digestOf(configBytes), size: configBytes.length };
    await writeBlob(this.content, configBytes, configDescriptor);
    const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor, layers: image.layers };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDescriptor: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(manifestBytes), size: manifestBytes.length };
    await writeBlob(this.content, manifestBytes, manifestDescriptor);
    // unpack before recording: a hostile layer is rejected before any name points at it
    await unpackLayers(this.content, this.snapshotter, image.layers, image.config.rootfs.diff_ids);
    const record = await this.registerImage(manifestDescriptor, image.parent !== undefined ? { parent: image.parent } : {});
    if (image.names !== undefined) await this.setNames(record.id, image.names);
    return record;
  }

  /** Unpack an image's layers (no-op for those present); returns the top chain ID. */
  async unpack(id: Digest): Promise<Digest | undefined> {
    const known = this.unpackedImages.get(id);
    if (known !== undefined && known.layerRemovals === this.snapshotter.layerRemovals) return known.top;
    const layerRemovals = this.snapshotter.layerRemovals;
    const imageRemovals = this.imageRemovals;
    const record = await this.metadata.getImage(id);
    const manifest = await this.readManifest(record.manifest);
    const config = await this.readConfig(id);
    const top = await unpackLayers(this.content, this.snapshotter, manifest.layers, config.rootfs.diff_ids);
    if (layerRemovals === this.snapshotter.layerRemovals && imageRemovals === this.imageRemovals) {
      this.unpackedImages.set(id, { top, layerRemovals });
    }
    return top;
  }

  /** The manifest for our platform behind a name's target (an index or a manifest). */
  async manifestForTarget(target: Descriptor, platform: Platform = this.platform): Promise<Descriptor> {
    if (!isIndexMediaType(target.mediaType)) return target;
    const doc = parseManifestOrIndex(await this.content.readBlob(target.digest, MAX_MANIFEST_BYTES), target.mediaType, `index ${target.digest}`);
    if (doc.kind === 'manifest') return { ...target, mediaType: doc.mediaType };
    const chosen = selectPlatformManifest(doc.index, platform);
    if (chosen === undefined) throw notFound('NO_MATCHING_PLATFORM', `index ${target.digest} has no manifest for ${formatPlatform(platform)}`);
    return await this.manifestForTarget(chosen, platform);
  }

  /**
   * `docker rmi`: by name, untag (and delete the image when it was the last name); by ID,
   * delete the image and all its names. Conflicts as Docker reports them.
   */
  async remove(text: string, options: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteResponseItem[]> {
    const { record } = await this.resolve(text);
    const id = record.id;
    const allNames = [...(await this.metadata.listNames())].filter(([, target]) => target === id).map(([name]) => name);
    const named = await this.nameOf(text, allNames);
    const result: DeleteResponseItem[] = [];
    const users = await this.imageUsers(id);
    if (named !== undefined && allNames.length > 1) {
      await this.metadata.updateNames(new Map([[named, undefined]]));
      return [{ Untagged: familiarString(parseReference(named)) }];
    }
    if (named === undefined && allNames.filter((n) => !n.includes('@')).length > 1 && options.force !== true) {
      throw conflict('IMAGE_IN_MULTIPLE_REPOSITORIES', `unable to delete ${shortDigest(id)} (must be forced) - image is referenced in multiple repositories`);
    }
    const running = users.find((u) => u.running);
    if (running !== undefined) {
      throw conflict('IMAGE_IN_USE', `unable to delete ${shortDigest(id)} (cannot be forced) - image is being used by running container ${running.containerId.slice(0, 12)}`);
    }
    if (users.length > 0 && options.force !== true) {
      const what = named !== undefined ? `unable to remove repository reference "${text}" (must force)` : `unable to delete ${shortDigest(id)} (must be forced)`;
      throw conflict('IMAGE_IN_USE', `${what} - container ${users[0]?.containerId.slice(0, 12)} is using its referenced image ${shortDigest(id)}`);
    }
    const children = (await this.metadata.listImages()).filter((r) => r.parent === id);
    if (children.length > 0 && named === undefined) {
      throw conflict('IMAGE_HAS_CHILDREN', `unable to delete ${shortDigest(id)} (cannot be forced) - image has dependent child images`);
    }
    await this.metadata.updateNames(new Map(allNames.map((n) => [n, undefined])));
    for (const n of allNames) result.push({ Untagged: familiarString(parseReference(n)) });
    if (users.length > 0) return result; // forced untag of an image a stopped container uses: keep it, dangling
    this.imageRemovals++;
    this.unpackedImages.delete(id);
    await this.metadata.deleteImage(id);
    this.configCache.delete(id);
    result.push({ Deleted: id });
    if (options.noPrune !== true) await this.collectGarbage();
    return result;
  }

  /** The stored name `text` refers to, when it was given as a name rather than an ID. */
  private async nameOf(text: string, names: readonly string[]): Promise<string | undefined> {
    if (isDigest(text)) return undefined;
    let ref: ImageReference;
    try {
      ref = parseNormalizedReference(text);
    } catch {
      return undefined;
    }
    const key = ref.digest !== undefined ? `${repositoryName(ref)}@${ref.digest}` : formatReference(ref);
    return names.includes(key) ? key : undefined;
  }

  /** `docker image prune`: dangling images, or with all every image no container uses. */
  async prune(options: { all?: boolean; until?: number; label?: string[] } = {}): Promise<{ ImagesDeleted: DeleteResponseItem[]; SpaceReclaimed: number }> {
    const names = await this.namesById();
    const deleted: DeleteResponseItem[] = [];
    for (const record of await this.metadata.listImages()) {
      const n = names.get(record.id);
      if (options.all !== true && n !== undefined && n.tags.length > 0) continue;
      if ((await this.imageUsers(record.id)).length > 0) continue;
      if (options.until !== undefined && record.createdAt >= options.until) continue;
      const config = await this.readConfig(record.id);
      if (options.label !== undefined && !options.label.every((l) => labelMatches(config.config?.Labels ?? {}, l))) continue;
      if ((await this.metadata.listImages()).some((r) => r.parent === record.id)) continue;
      const items = await this.remove(record.id, { force: true, noPrune: true }).catch((err: unknown) => {
        if (isBerthError(err, 'conflict')) return [];
        throw err;
      });
      deleted.push(...items);
    }
    const gc = await this.collectGarbage();
    return { ImagesDeleted: deleted, SpaceReclaimed: gc.bytesReclaimed };
  }

  async collectGarbage(): Promise<GcResult> {
    return await collectGarbage(this.metadata, this.content, this.snapshotter);
  }

  /** For the containers service: `ImageLookup`. */
  lookup(): { resolve(ref: string): Promise<{ id: string; config: ContainerConfig }>; familiarName(id: string): Promise<string | undefined> } {
    return {
      resolve: async (ref) => {
        const { record, config } = await this.resolve(ref);
        return { id: record.id, config: config.config ?? {} };
      },
      familiarName: async (id) => {
        if (!isDigest(id)) return undefined;
        return (await this.namesById()).get(id)?.tags[0];
      },
    };
  }

  /** For the containers service and the builder: writable roots over an image (`ContainerRootfs`). */
  rootfs(): {
    mount(key: string, imageId: string | undefined, idmap?: IdMaps, options?: { durable?: boolean }): Promise<string>;
    unmount(key: string): Promise<void>;
    remove(key: string): Promise<void>;
    diff(key: string): AsyncIterable<Uint8Array>;
    list(): Promise<string[]>;
  } {
    return {
      mount: async (key, imageId, idmap, options) => {
        // an image ID (what containers keep) is unpacked as it is: unpack reads its record anyway
        const id = imageId === undefined || imageId === '' ? undefined : isDigest(imageId) ? imageId : (await this.resolve(imageId)).record.id;
        const top = id === undefined ? undefined : await this.unpack(id);
        return (await this.snapshotter.prepare(key, top, { ...(idmap ? { idmap } : {}), ...(options?.durable === false ? { durable: false } : {}) })).root;
      },
      unmount: async (key) => { await this.snapshotter.unmount(key); },
      remove: async (key) => { await this.snapshotter.remove(key); },
      diff: (key) => this.snapshotter.diff(key),
      list: async () => (await this.snapshotter.listActive()).map((a) => a.key),
    };
  }

  /**
   * `docker commit` and build steps: the writable root `key` becomes a new layer on top of
   * `parentImageId` (or scratch), with the given container config and a history entry.
   */
  async commit(request: {
    containerId: string; parentImageId?: string; config: ContainerConfig; repo?: string; tag?: string;
    comment?: string; author?: string; createdBy?: string; emptyLayer?: boolean;
  }): Promise<string> {
    const parent = request.parentImageId ? await this.resolve(request.parentImageId) : undefined;
    const base = parent?.config ?? { architecture: this.platform.architecture, os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [] } };
    const baseLayers = parent !== undefined ? (await this.readManifest(parent.record.manifest)).layers : [];
    const created = new Date().toISOString();
    let layers = baseLayers;
    let diffIds = base.rootfs.diff_ids;
    if (request.emptyLayer !== true) {
      const stored = await storeLayerTar(this.content, this.tmpDir, this.snapshotter.diff(request.containerId));
      layers = [...baseLayers, stored.descriptor];
      diffIds = [...diffIds, stored.diffId];
    }
    const history = { created, created_by: request.createdBy ?? '', ...(request.comment ? { comment: request.comment } : {}),
      ...(request.author ? { author: request.author } : {}), ...(request.emptyLayer === true ? { empty_layer: true } : {}) };
    const config: ImageConfig = {
      ...base, created, config: request.config, rootfs: { type: 'layers', diff_ids: diffIds },
      history: [...(base.history ?? []), history],
      ...(request.author ? { author: request.author } : {}), ...(request.comment ? { comment: request.comment } : {}),
    };
    const names = request.repo ? [parseNormalizedReference(request.tag ? `${request.repo}:${request.tag}` : request.repo)] : [];
    const record = await this.createImage({ config, layers, names, ...(parent ? { parent: parent.record.id } : {}) });
    return record.id;
  }

  /** For pull (D's `PullStore`). */
  pullStore(): {
    content: ContentStore;
    unpack(image: { manifest: Manifest; config: ImageConfig }): Promise<void>;
    tag(reference: ImageReference, target: Descriptor): Promise<boolean>;
  } {
    return {
      content: this.content,
      unpack: async (image) => { await unpackLayers(this.content, this.snapshotter, image.manifest.layers, image.config.rootfs.diff_ids); },
      tag: async (reference, target) => {
        const manifest = await this.manifestForTarget(target);
        const record = await this.registerImage(manifest, isIndexMediaType(target.mediaType) ? { index: target } : {});
        const names: ImageReference[] = [{ domain: reference.domain, path: reference.path, digest: target.digest }];
        if (reference.tag !== undefined && reference.digest === undefined) names.push({ domain: reference.domain, path: reference.path, tag: reference.tag });
        const before = await this.metadata.getName(formatReference(reference));
        await this.setNames(record.id, names);
        return before !== record.id;
      },
    };
  }

  /**
   * For push (D's `PushStore`): what a local name points at (the index it was pulled
   * through, else the manifest), and the image's other names, which push tries as
   * cross-repository mount sources.
   */
  pushStore(): PushStore {
    return {
      content: this.content,
      namesOf: async (target) => {
        const ids = new Set((await this.metadata.listImages())
          .filter((r) => r.manifest.digest === target.digest || r.index?.digest === target.digest).map((r) => r.id));
        return [...await this.metadata.listNames()].filter(([, id]) => ids.has(id)).map(([name]) => parseReference(name));
      },
      resolve: async (reference) => {
        const record = await this.findByReference(reference);
        if (record === undefined) throw notFound('NO_SUCH_IMAGE', `an image does not exist locally with the tag: ${familiarString(reference)}`);
        // the index only for names of the repository it was pulled from; a local tag pushes the manifest
        const fromIndex = record.index !== undefined
          && (await this.metadata.getName(`${repositoryName(reference)}@${record.index.digest}`)) === record.id;
        return fromIndex && record.index !== undefined ? record.index : record.manifest;
      },
    };
  }
}

/**
 * How dockerd names an image it did not find (its API's wording, capital N included): a
 * name gets its default tag (`busybox` -> `busybox:latest`), an ID or digest stays as given.
 */
export function dockerNotFoundName(text: string): string {
  if (/^sha256:/.test(text)) return text;
  try {
    const ref = parseNormalizedReference(text);
    return familiarString(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref);
  } catch {
    return text;
  }
}

function stripDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform !== undefined) out.platform = d.platform;
  return out;
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq < 0 ? filter in labels : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Docker's `reference` filter: glob on the familiar name (with or without tag). */
function matchesReference(tag: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  const at = tag.indexOf('@');
  const repo = at >= 0 ? tag.slice(0, at) : tag.slice(0, tag.lastIndexOf(':') > tag.lastIndexOf('/') ? tag.lastIndexOf(':') : tag.length);
  return re.test(tag) || re.test(repo);
}
