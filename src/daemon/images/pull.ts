// `docker pull`: reference -> manifest (or index, then the manifest for our platform) ->
// config and layers into the content store (blobs already present are skipped, partial
// ingests resumed) -> unpack -> tag. Every blob is verified by the registry stream and
// again by the store on commit; a name is written only when everything it needs is there.
import { BerthError, isBerthError } from '../../errors/berth-error.js';
import { shortDigest, type Digest } from '../../oci/digest.js';
import {
  formatPlatform, hostPlatform, isIndexMediaType, isLayerMediaType, MAX_CONFIG_BYTES, parseImageConfig, parseManifestOrIndex,
  selectPlatformManifest, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform,
} from '../../oci/image.js';
import { formatReference, parseNormalizedReference, type ImageReference } from '../../oci/reference.js';
import type { RegistryClient, RepositoryClient } from '../../registry/client.js';
import { mapConcurrent } from '../../registry/concurrency.js';
import { throttledProgress, type ProgressListener } from '../../registry/progress.js';
import { hasBlob, type BlobWriter, type ContentStore } from '../../store/content/content-store.js';

/** What a pull needs from the image store (wired by the images service). */
export interface PullStore {
  content: ContentStore;
  /** Unpack the layers into snapshots; called once all blobs are in the content store. */
  unpack(image: PulledImage, onProgress?: ProgressListener): Promise<void>;
  /**
   * Point `reference` at `target` (the index or manifest the registry named). A store that
   * knows answers whether the name was new or moved, which is what docker's "Downloaded
   * newer image" means; otherwise a pull that fetched nothing counts as up to date.
   */
  tag(reference: ImageReference, target: Descriptor): Promise<boolean | void>;
}

export interface PullOptions {
  platform?: Platform;
  onProgress?: ProgressListener;
  /** parallel layer downloads (docker: 3) */
  concurrency?: number;
}

export interface PulledImage {
  reference: ImageReference;
  /** what the name points at: the index when the registry served one, else the manifest */
  target: Descriptor;
  /** the platform manifest */
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  /** the index the manifest was chosen from, if any */
  index?: Index;
  /** true when every blob was already present */
  upToDate: boolean;
}

const MAX_INDEX_DEPTH = 2;

export async function pullImage(client: RegistryClient, store: PullStore, reference: string | ImageReference,
  options: PullOptions = {}): Promise<PulledImage> {
  const ref = typeof reference === 'string' ? parseNormalizedReference(reference) : reference;
  const repo = client.repository(ref.domain, ref.path);
  const emit = options.onProgress ?? (() => undefined);
  emit({ id: ref.digest ?? ref.tag ?? 'latest', status: `Pulling from ${ref.path}` });
  // documents are checked in memory first and stored last, so a stored manifest always has its blobs
  const resolved = await resolveManifest(repo, ref, options.platform ?? hostPlatform());
  const config = await fetchConfig(repo, store.content, resolved.manifest, resolved.manifestDescriptor);
  checkLayers(resolved.manifest, config.config, repo.display(resolved.manifestDescriptor.digest));
  const fetched = await fetchLayers(repo, store.content, resolved.manifest.layers, options);
  let stored = 0;
  for (const doc of [config.document, ...resolved.documents]) if (!(await storeDocument(store.content, doc.descriptor, doc.bytes))) stored++;
  const image: PulledImage = {
    reference: ref, target: resolved.target, manifestDescriptor: resolved.manifestDescriptor, manifest: resolved.manifest,
    configDescriptor: resolved.manifest.config, config: config.config, upToDate: fetched === 0 && stored === 0,
  };
  if (resolved.index !== undefined) image.index = resolved.index;
  await store.unpack(image, options.onProgress);
  for (const layer of resolved.manifest.layers) emit({ id: shortDigest(layer.digest), status: 'Pull complete' });
  const moved = await store.tag(ref, resolved.target);
  if (typeof moved === 'boolean') image.upToDate = !moved;
  // the closing "Digest:" and "Status: ..." lines are the caller's to render from the result
  return image;
}

interface Document {
  descriptor: Descriptor;
  bytes: Buffer;
}

interface ResolvedManifest {
  target: Descriptor;
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  index?: Index;
  /** the manifest and any indexes above it, innermost first (the order to store them in) */
  documents: Document[];
}

/** Fetch the named document; walk an index down to the manifest for `platform`. */
async function resolveManifest(repo: RepositoryClient, ref: ImageReference, platform: Platform): Promise<ResolvedManifest> {
  const fetched = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest');
  let doc = parseManifestOrIndex(fetched.bytes, fetched.mediaType, `manifest ${formatReference(ref)}`);
  const target: Descriptor = { mediaType: doc.mediaType, digest: fetched.digest, size: fetched.bytes.byteLength };
  const documents: Document[] = [{ descriptor: target, bytes: fetched.bytes }];
  let descriptor = target;
  let index: Index | undefined;
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) {
      throw new BerthError('invalid_argument', 'INDEX_TOO_DEEP', `manifest ${formatReference(ref)}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    }
    index = doc.index;
    const chosen = selectPlatformManifest(doc.index, platform);
    if (chosen === undefined) {
      const offered = doc.index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : [])).join(', ');
      throw new BerthError('not_found', 'NO_MATCHING_PLATFORM',
        `no manifest for platform ${formatPlatform(platform)} in ${formatReference(ref)} (offered: ${offered || 'none'})`);
    }
    const child = await repo.getManifest(chosen.digest);
    if (child.bytes.byteLength !== chosen.size) {
      throw sizeMismatch(`manifest ${repo.display(chosen.digest)}`, chosen.size, child.bytes.byteLength);
    }
    doc = parseManifestOrIndex(child.bytes, isIndexMediaType(chosen.mediaType) ? chosen.mediaType : child.mediaType || chosen.mediaType,
      `manifest ${repo.display(chosen.digest)}`);
    descriptor = { mediaType: doc.mediaType, digest: chosen.digest, size: chosen.size, ...(chosen.platform ? { platform: chosen.platform } : {}) };
    documents.unshift({ descriptor, bytes: child.bytes });
  }
  const result: ResolvedManifest = { target, manifestDescriptor: descriptor, manifest: doc.manifest, documents };
  if (index !== undefined) result.index = index;
  return result;
}

/** Returns true when the document was already stored. */
async function storeDocument(content: ContentStore, descriptor: Descriptor, bytes: Buffer): Promise<boolean> {
  if (await hasBlob(content, descriptor.digest)) return true;
  const writer = await content.writer(`pull-${descriptor.digest}`, { digest: descriptor.digest, size: bytes.byteLength, mediaType: descriptor.mediaType });
  try {
    if (writer.offset > 0) throw new Error('stale partial document');
    await writer.write(bytes);
    await writer.commit();
  } catch (err) {
    await writer.abort().catch(() => undefined);
    if (isBerthError(err)) throw err;
    return await storeDocument(content, descriptor, bytes);
  }
  return false;
}

async function fetchConfig(repo: RepositoryClient, content: ContentStore, manifest: Manifest, manifestDescriptor: Descriptor): Promise<{ config: ImageConfig; document: Document }> {
  const descriptor = manifest.config;
  const what = `config ${descriptor.digest} of ${repo.display(manifestDescriptor.digest)}`;
  const bytes = await hasBlob(content, descriptor.digest)
    ? await content.readBlob(descriptor.digest, MAX_CONFIG_BYTES)
    : await repo.readBlob(descriptor, MAX_CONFIG_BYTES);
  return { config: parseImageConfig(bytes, what), document: { descriptor, bytes } };
}

function checkLayers(manifest: Manifest, config: ImageConfig, what: string): void {
  for (const layer of manifest.layers) {
    if (!isLayerMediaType(layer.mediaType)) {
      throw new BerthError('invalid_argument', 'UNSUPPORTED_LAYER', `manifest ${what}: layer ${layer.digest} has unsupported media type "${layer.mediaType}"`);
    }
  }
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new BerthError('invalid_argument', 'LAYER_COUNT_MISMATCH',
      `manifest ${what} lists ${manifest.layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids`);
  }
}

/** Downloads missing layers, `concurrency` at a time; returns how many were fetched. */
async function fetchLayers(repo: RepositoryClient, content: ContentStore, layers: readonly Descriptor[], options: PullOptions): Promise<number> {
  const emit = options.onProgress ?? (() => undefined);
  const missing: Descriptor[] = [];
  const seen = new Set<Digest>();
  for (const layer of layers) {
    if (seen.has(layer.digest)) continue;
    seen.add(layer.digest);
    if (await hasBlob(content, layer.digest)) emit({ id: shortDigest(layer.digest), status: 'Already exists' });
    else {
      missing.push(layer);
      emit({ id: shortDigest(layer.digest), status: 'Pulling fs layer' });
    }
  }
  await mapConcurrent(missing, options.concurrency ?? 3, async (layer) => await fetchLayer(repo, content, layer, options.onProgress));
  return missing.length;
}

async function fetchLayer(repo: RepositoryClient, content: ContentStore, layer: Descriptor, onProgress: ProgressListener | undefined): Promise<void> {
  const id = shortDigest(layer.digest);
  const writer = await content.writer(`pull-${layer.digest}`, { digest: layer.digest, size: layer.size, mediaType: layer.mediaType });
  const batch = new WriteBatch(writer);
  try {
    // the store hashes what it is given (and re-hashed any partial data it kept) and
    // verifies the whole blob on commit, so the stream need not hash it a second time
    const stream = repo.openBlob(layer, {
      offset: writer.offset, verifyDigest: false, onProgress: throttledProgress(onProgress, id, 'Downloading', layer.size),
    });
    for await (const chunk of stream as AsyncIterable<Buffer>) await batch.add(chunk);
    await batch.flush();
    onProgress?.({ id, status: 'Verifying Checksum' });
    await writer.commit();
    onProgress?.({ id, status: 'Download complete' });
  } catch (err) {
    // bytes proven wrong are discarded; after any other failure (lost connection, registry
    // down, interrupted) what arrived is kept, and the next pull continues it with Range
    if (!isBerthError(err, 'invalid_argument')) await batch.flush().catch(() => undefined);
    if (isBerthError(err, 'invalid_argument') || writer.offset === 0) await writer.abort().catch(() => undefined);
    else await writer.close().catch(() => undefined);
    throw err;
  }
}

/** Network chunks are ~64 KiB; writing them in MiB batches (one writev, no copy) saves most of the file-system round trips. */
class WriteBatch {
  private pending: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly writer: BlobWriter, private readonly size = 4 << 20) {}

  async add(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.bytes += chunk.byteLength;
    if (this.bytes >= this.size) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.bytes === 0) return;
    const chunks = this.pending;
    const bytes = this.bytes;
    this.pending = [];
    this.bytes = 0;
    if (this.writer.writeMany !== undefined) await this.writer.writeMany(chunks);
    else await this.writer.write(Buffer.concat(chunks, bytes));
  }
}

function sizeMismatch(what: string, expected: number, actual: number): BerthError {
  return new BerthError('invalid_argument', 'SIZE_MISMATCH', `${what}: size mismatch: expected ${expected} bytes, got ${actual}`);
}
