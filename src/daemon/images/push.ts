// `docker push`: the local name -> its manifest (or index) in the content store -> layers
// and config uploaded (existing blobs skipped, cross-repository mounts tried) -> child
// manifests by digest -> the named manifest or index under the tag. An image that came
// from an index is pushed as that index when every platform manifest is present locally,
// otherwise as the platform manifest alone (what docker's classic store does).
import { PassThrough, type Readable } from 'node:stream';
import { BerthError } from '../../errors/berth-error.js';
import { shortDigest, type Digest } from '../../oci/digest.js';
import {
  hostPlatform, MAX_MANIFEST_BYTES, parseManifestOrIndex, selectPlatformManifest, isForeignLayerMediaType,
  type Descriptor, type Index, type Manifest, type Platform,
} from '../../oci/image.js';
import { parseNormalizedReference, type ImageReference } from '../../oci/reference.js';
import type { UploadMode } from '../../registry/blob-upload.js';
import type { RegistryClient, RepositoryClient } from '../../registry/client.js';
import { mapConcurrent } from '../../registry/concurrency.js';
import { throttledProgress, type ProgressListener } from '../../registry/progress.js';
import { hasBlob, type ContentProvider } from '../../store/content/content-store.js';

/** What a push needs from the image store (wired by the images service). */
export interface PushStore {
  content: ContentProvider;
  /** The descriptor a local name points at; throws not_found when there is no such image. */
  resolve(reference: ImageReference): Promise<Descriptor>;
  /**
   * Other names of the same image. Names on the target registry are tried as
   * cross-repository mount sources, as docker does after `docker tag` to a new repository.
   */
  namesOf?(target: Descriptor): Promise<ImageReference[]>;
}

export interface PushOptions {
  onProgress?: ProgressListener;
  /** parallel uploads (docker: 5) */
  concurrency?: number;
  /** repositories on the same registry that may hold the blobs already (cross-repository mount) */
  mountFrom?: readonly string[];
  uploadMode?: UploadMode;
  /** platform used when only part of an index is present locally */
  platform?: Platform;
}

export interface PushResult {
  reference: ImageReference;
  /** the descriptor now named by the tag */
  pushed: Descriptor;
}

export async function pushImage(client: RegistryClient, store: PushStore, reference: string | ImageReference,
  options: PushOptions = {}): Promise<PushResult> {
  const parsed = typeof reference === 'string' ? parseNormalizedReference(reference) : reference;
  const ref: ImageReference = parsed.tag === undefined && parsed.digest === undefined ? { ...parsed, tag: 'latest' } : parsed;
  const repo = client.repository(ref.domain, ref.path);
  const target = await store.resolve(ref);
  const mountFrom = await mountCandidates(store, target, ref, options.mountFrom ?? []);
  const bytes = await store.content.readBlob(target.digest, MAX_MANIFEST_BYTES);
  const doc = parseManifestOrIndex(bytes, target.mediaType, `local manifest ${target.digest}`);
  let pushed: Descriptor;
  if (doc.kind === 'manifest') {
    await pushManifestBlobs(repo, store.content, doc.manifest, { ...options, mountFrom });
    pushed = { mediaType: doc.mediaType, digest: target.digest, size: bytes.byteLength };
    await putNamed(repo, ref, pushed, bytes);
  } else {
    pushed = await pushIndex(repo, store.content, ref, { ...target, mediaType: doc.mediaType }, bytes, doc.index, { ...options, mountFrom });
  }
  // "The push refers to repository [...]" and "<tag>: digest: ... size: ..." are the caller's lines
  return { reference: ref, pushed };
}

async function mountCandidates(store: PushStore, target: Descriptor, ref: ImageReference, given: readonly string[]): Promise<string[]> {
  const candidates = new Set(given);
  for (const name of (await store.namesOf?.(target)) ?? []) {
    if (name.domain === ref.domain && name.path !== ref.path) candidates.add(name.path);
  }
  return [...candidates];
}

async function pushIndex(repo: RepositoryClient, content: ContentProvider, ref: ImageReference, target: Descriptor, bytes: Buffer,
  index: Index, options: PushOptions): Promise<Descriptor> {
  const present: Descriptor[] = [];
  for (const child of index.manifests) if (await hasBlob(content, child.digest)) present.push(child);
  if (present.length === index.manifests.length) {
    for (const child of index.manifests) await pushChildManifest(repo, content, child, options);
    await putNamed(repo, ref, target, bytes);
    return target;
  }
  // only some platforms were pulled: push the one for our platform as a plain manifest
  const chosen = selectPlatformManifest({ ...index, manifests: present }, options.platform ?? hostPlatform());
  if (chosen === undefined) {
    throw new BerthError('not_found', 'NO_MATCHING_PLATFORM', `image ${target.digest} has no local manifest for this platform to push`);
  }
  const childBytes = await content.readBlob(chosen.digest, MAX_MANIFEST_BYTES);
  const child = parseManifestOrIndex(childBytes, chosen.mediaType, `local manifest ${chosen.digest}`);
  if (child.kind !== 'manifest') throw new BerthError('not_implemented', 'NESTED_INDEX', `nested index ${chosen.digest} cannot be pushed`);
  await pushManifestBlobs(repo, content, child.manifest, options);
  const pushed: Descriptor = { mediaType: child.mediaType, digest: chosen.digest, size: childBytes.byteLength };
  await putNamed(repo, ref, pushed, childBytes);
  return pushed;
}

async function pushChildManifest(repo: RepositoryClient, content: ContentProvider, child: Descriptor, options: PushOptions): Promise<void> {
  const bytes = await content.readBlob(child.digest, MAX_MANIFEST_BYTES);
  const doc = parseManifestOrIndex(bytes, child.mediaType, `local manifest ${child.digest}`);
  if (doc.kind !== 'manifest') throw new BerthError('not_implemented', 'NESTED_INDEX', `nested index ${child.digest} cannot be pushed`);
  if (await repo.headManifest(child.digest) === undefined) {
    await pushManifestBlobs(repo, content, doc.manifest, options);
    await repo.putManifest(child.digest, bytes, doc.mediaType);
  }
}

async function putNamed(repo: RepositoryClient, ref: ImageReference, descriptor: Descriptor, bytes: Buffer): Promise<void> {
  await repo.putManifest(ref.tag ?? descriptor.digest, bytes, descriptor.mediaType);
}

/** Layers (in parallel) then the config, as docker orders them. */
async function pushManifestBlobs(repo: RepositoryClient, content: ContentProvider, manifest: Manifest, options: PushOptions): Promise<void> {
  const emit = options.onProgress ?? (() => undefined);
  const layers = dedupe(manifest.layers.filter((l) => !isForeignLayerMediaType(l.mediaType)));
  for (const layer of layers) emit({ id: shortDigest(layer.digest), status: 'Preparing' });
  await mapConcurrent(layers, options.concurrency ?? 5, async (layer) => await pushOneBlob(repo, content, layer, options, true));
  await pushOneBlob(repo, content, manifest.config, options, false);
}

async function pushOneBlob(repo: RepositoryClient, content: ContentProvider, descriptor: Descriptor, options: PushOptions, isLayer: boolean): Promise<void> {
  const id = shortDigest(descriptor.digest);
  const emit = options.onProgress ?? (() => undefined);
  const info = await content.info(descriptor.digest);
  if (info.size !== descriptor.size) {
    throw new BerthError('internal', 'SIZE_MISMATCH', `local blob ${descriptor.digest} is ${info.size} bytes, its manifest says ${descriptor.size}`);
  }
  const result = await repo.pushBlob(descriptor, () => lazyStream(() => content.open(descriptor.digest)), {
    mountFrom: options.mountFrom ?? [],
    ...(options.uploadMode ? { mode: options.uploadMode } : {}),
    onProgress: throttledProgress(isLayer ? options.onProgress : undefined, id, 'Pushing', descriptor.size),
  });
  if (!isLayer) return;
  if (result.outcome === 'exists') emit({ id, status: 'Layer already exists' });
  else if (result.outcome === 'mounted') emit({ id, status: `Mounted from ${result.from ?? ''}` });
  else emit({ id, status: 'Pushed' });
}

/** A stream available at once whose data comes from an async open (the transport wants a sync factory). */
function lazyStream(open: () => Promise<Readable>): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  open().then((source) => {
    source.on('error', (err) => out.destroy(err));
    source.pipe(out);
  }, (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

function dedupe(descriptors: readonly Descriptor[]): Descriptor[] {
  const seen = new Set<Digest>();
  return descriptors.filter((d) => (seen.has(d.digest) ? false : (seen.add(d.digest), true)));
}
