// `docker save` / `docker load` archives. Save writes what docker 25+ writes: an OCI image
// layout (blobs/, index.json, oci-layout) plus Docker's manifest.json and repositories, so
// old and new docker load it. Load reads that, the legacy format of older dockers
// (<id>.json, <layer>/layer.tar, symlinked duplicate layers) and plain OCI layouts.
// Archives are hostile: every path and digest is checked and names are set last.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { invalidArgument, notFound } from '../../errors/berth-error.js';
import { Digester, digestHex, digestOf, isDigest, type Digest } from '../../oci/digest.js';
import {
  isIndexMediaType, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, MediaType, parseImageConfig, parseIndex, parseManifestOrIndex,
  selectPlatformManifest, validate, type Descriptor,
} from '../../oci/image.js';
import { familiarName, familiarString, formatReference, parseNormalizedReference, type ImageReference } from '../../oci/reference.js';
import { writeBlobFromStream } from '../../store/content/file-content-store.js';
import { cleanEntryPath, readTar, type TarLimits, DEFAULT_TAR_LIMITS } from '../../store/archive/tar-reader.js';
import { writeTar, type TarWriteEntry } from '../../store/archive/tar-writer.js';
import { chainIds } from '../../store/snapshots/snapshotter.js';
import type { ImageService } from './image-service.js';
import { decompressSniffed } from './layers.js';

const NAME_ANNOTATION = 'io.containerd.image.name';
const REF_ANNOTATION = 'org.opencontainers.image.ref.name';

/** Stream a `docker save` archive of the named images (names keep their tags; IDs save untagged). */
export async function* saveImages(service: ImageService, names: readonly string[]): AsyncGenerator<Buffer> {
  const blobs = new Map<Digest, number>();
  const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const indexEntries: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const byImage = new Map<Digest, number>();
  for (const name of names) {
    const { record } = await service.resolve(name);
    const manifest = await service.readManifest(record.manifest);
    for (const d of [record.manifest, manifest.config, ...manifest.layers]) blobs.set(d.digest, (await service.content.info(d.digest)).size);
    const tag = await savedTag(service, name);
    let entry = byImage.get(record.id);
    if (entry === undefined) {
      entry = manifestJson.push({ Config: blobPath(manifest.config.digest), RepoTags: null, Layers: manifest.layers.map((l) => blobPath(l.digest)) }) - 1;
      byImage.set(record.id, entry);
    }
    const descriptor: Descriptor = { mediaType: record.manifest.mediaType, digest: record.manifest.digest, size: record.manifest.size };
    if (tag !== undefined && tag.tag !== undefined) {
      const item = manifestJson[entry] as { RepoTags: string[] | null };
      item.RepoTags = [...(item.RepoTags ?? []), familiarString(tag)];
      descriptor.annotations = { [NAME_ANNOTATION]: formatReference(tag), [REF_ANNOTATION]: tag.tag };
      const top = manifest.layers[manifest.layers.length - 1];
      if (top !== undefined) (repositories[familiarName(tag)] ??= {})[tag.tag] = digestHex(top.digest);
    }
    if (tag !== undefined || !indexEntries.some((d) => d.digest === descriptor.digest)) indexEntries.push(descriptor);
  }
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const file = (name: string, data: Buffer): TarWriteEntry => ({ header: { name, type: 'file', mode: 0o644, size: data.length }, body: data });
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    yield { header: { name: 'blobs/', type: 'dir', mode: 0o755 } };
    yield { header: { name: 'blobs/sha256/', type: 'dir', mode: 0o755 } };
    for (const [digest, size] of blobs) {
      yield { header: { name: blobPath(digest), type: 'file', mode: 0o644, size }, body: await service.content.open(digest) };
    }
    yield file('index.json', json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexEntries }));
    yield file('manifest.json', json(manifestJson));
    yield file('oci-layout', json({ imageLayoutVersion: '1.0.0' }));
    yield file('repositories', json(repositories));
  }
  yield* writeTar(entries());
}

/** The tag a save request names, when it names one that exists (IDs and digests save untagged). */
async function savedTag(service: ImageService, name: string): Promise<ImageReference | undefined> {
  if (isDigest(name)) return undefined;
  let ref: ImageReference;
  try {
    ref = parseNormalizedReference(name);
  } catch {
    return undefined;
  }
  if (ref.digest !== undefined || ref.tag === undefined) return undefined;
  return (await service.metadata.getName(formatReference(ref))) !== undefined ? ref : undefined;
}

function blobPath(digest: Digest): string {
  return `blobs/${digest.replace(':', '/')}`;
}

const dockerManifestSchema = z.array(z.object({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullable().optional(),
  Layers: z.array(z.string()),
}).passthrough()).max(10_000);

/** Staged archive: regular files copied to a temp dir, symlinks remembered. */
class StagedArchive {
  readonly files = new Map<string, { file: string; size: number }>();
  readonly links = new Map<string, string>();
  constructor(readonly dir: string) {}

  resolve(name: string, what: string): { file: string; size: number } {
    let current = cleanEntryPath(name, what);
    for (let hops = 0; hops < 16; hops++) {
      const found = this.files.get(current);
      if (found !== undefined) return found;
      const link = this.links.get(current);
      if (link === undefined) break;
      current = link;
    }
    throw invalidArgument('ARCHIVE_MISSING_FILE', `image archive is missing "${name}" (${what})`);
  }

  async read(name: string, what: string, limit: number): Promise<Buffer> {
    const { file, size } = this.resolve(name, what);
    if (size > limit) throw invalidArgument('ARCHIVE_FILE_TOO_LARGE', `"${name}" in the image archive is ${size} bytes, over ${limit}`);
    return await readFile(file);
  }

  has(name: string): boolean {
    return this.files.has(name) || this.links.has(name);
  }
}

async function stage(source: AsyncIterable<Uint8Array>, dir: string, limits: TarLimits): Promise<StagedArchive> {
  const staged = new StagedArchive(dir);
  let n = 0;
  for await (const entry of readTar(source, limits)) {
    const name = cleanEntryPath(entry.header.name, 'image archive entry');
    if (entry.header.type === 'dir') continue;
    if (staged.has(name)) throw invalidArgument('ARCHIVE_DUPLICATE', `image archive entry "${name}" appears twice`);
    if (entry.header.type === 'symlink') {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(name), entry.header.linkname));
      staged.links.set(name, cleanEntryPath(target, `image archive symlink "${name}"`));
      continue;
    }
    if (entry.header.type !== 'file') {
      throw invalidArgument('ARCHIVE_BAD_ENTRY', `image archive entry "${name}" is a ${entry.header.type}, not a file`);
    }
    const file = path.join(dir, String(n++));
    await pipeline(entry.body(), createWriteStream(file));
    staged.files.set(name, { file, size: entry.header.size });
  }
  return staged;
}

export interface LoadResult {
  /** what docker load prints: "Loaded image: busybox:latest" / "Loaded image ID: sha256:..." */
  messages: string[];
  images: Digest[];
}

/** `docker load`: a docker save archive (any version) or an OCI layout tar, maybe compressed. */
export async function loadImages(service: ImageService, source: AsyncIterable<Uint8Array>, limits: TarLimits = DEFAULT_TAR_LIMITS): Promise<LoadResult> {
  await mkdir(service.tmpDir, { recursive: true });
  const dir = await mkdtemp(path.join(service.tmpDir, 'load-'));
  try {
    const staged = await stage(decompressSniffed(source, 'image archive'), dir, limits);
    if (staged.has('manifest.json')) return await loadDockerArchive(service, staged);
    if (staged.has('index.json')) return await loadOciLayout(service, staged);
    throw invalidArgument('NOT_AN_IMAGE_ARCHIVE', 'not an image archive: it has neither manifest.json nor index.json');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadDockerArchive(service: ImageService, staged: StagedArchive): Promise<LoadResult> {
  const raw = await staged.read('manifest.json', 'the archive manifest', MAX_MANIFEST_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw invalidArgument('MALFORMED_JSON', 'manifest.json of the image archive is not valid JSON', { cause });
  }
  const entries = validate(dockerManifestSchema, parsed, 'manifest.json of the image archive');
  const result: LoadResult = { messages: [], images: [] };
  const pendingNames: Array<{ id: Digest; refs: ImageReference[] }> = [];
  for (const entry of entries) {
    const configBytes = await staged.read(entry.Config, `config of ${entry.RepoTags?.[0] ?? 'an image'}`, MAX_CONFIG_BYTES);
    const configDigest = digestOf(configBytes);
    checkBlobPath(entry.Config, configDigest);
    const config = parseImageConfig(configBytes, `image config ${entry.Config}`);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw invalidArgument('LAYER_COUNT_MISMATCH', `image ${entry.Config}: ${entry.Layers.length} layers listed, config has ${config.rootfs.diff_ids.length} diff_ids`);
    }
    const layers: Descriptor[] = [];
    for (let i = 0; i < entry.Layers.length; i++) {
      layers.push(await ingestLayerFile(service, staged, entry.Layers[i] as string, config.rootfs.diff_ids[i] as Digest));
    }
    const refs = (entry.RepoTags ?? []).map((t) => parseNormalizedReference(t));
    const record = await service.createImage({ config, configBytes, layers });
    pendingNames.push({ id: record.id, refs });
  }
  // names last: a failure above leaves only verified, unnamed content for GC
  for (const { id, refs } of pendingNames) {
    await service.setNames(id, refs);
    result.images.push(id);
    if (refs.length === 0) result.messages.push(`Loaded image ID: ${id}`);
    for (const ref of refs) result.messages.push(`Loaded image: ${familiarString(ref)}`);
  }
  return result;
}

/** A blob path such as blobs/sha256/<hex> or <hex>.json must name what its content hashes to. */
function checkBlobPath(name: string, actual: Digest): void {
  const clean = cleanEntryPath(name);
  const blob = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(clean);
  const legacy = /^([a-f0-9]{64})\.json$/.exec(clean);
  const claimed = blob ? `${blob[1]}:${blob[2]}` : legacy ? `sha256:${legacy[1]}` : undefined;
  if (claimed !== undefined && claimed !== actual) {
    throw invalidArgument('DIGEST_MISMATCH', `image archive file "${name}" does not match its digest: content hashes to ${actual}`);
  }
}

/** Store a layer file as it is (plain or gzip) after checking that it unpacks to `diffId`. */
async function ingestLayerFile(service: ImageService, staged: StagedArchive, name: string, diffId: Digest): Promise<Descriptor> {
  const { file, size } = staged.resolve(name, `layer for diff ID ${diffId}`);
  const raw = new Digester();
  const uncompressed = new Digester();
  let gzip = false;
  const tap = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      if (raw.size === 0 && chunk[0] === 0x1f && chunk[1] === 0x8b) gzip = true;
      raw.update(chunk);
      yield chunk;
    }
  };
  for await (const chunk of decompressSniffed(tap(), `layer "${name}"`)) uncompressed.update(chunk);
  const actual = uncompressed.digest();
  if (actual !== diffId) {
    throw invalidArgument('DIFF_ID_MISMATCH', `layer "${name}" in the image archive unpacks to ${actual}, but the config says ${diffId}`);
  }
  const digest = raw.digest();
  checkBlobPath(name, digest);
  const descriptor: Descriptor = { mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer, digest, size };
  await writeBlobFromStream(service.content, `load-${digest}`, createReadStream(file), descriptor);
  return descriptor;
}

async function loadOciLayout(service: ImageService, staged: StagedArchive): Promise<LoadResult> {
  const index = parseIndex(await staged.read('index.json', 'the OCI index', MAX_MANIFEST_BYTES), 'index.json of the image archive');
  const result: LoadResult = { messages: [], images: [] };
  const pendingNames: Array<{ id: Digest; refs: ImageReference[] }> = [];
  for (const descriptor of index.manifests) {
    const manifestDescriptor = await ingestManifestTree(service, staged, descriptor);
    const record = await service.registerImage(manifestDescriptor);
    await service.unpack(record.id);
    const name = descriptor.annotations?.[NAME_ANNOTATION] ?? descriptor.annotations?.[REF_ANNOTATION];
    let ref: ImageReference | undefined;
    try {
      ref = name !== undefined && !/^[\w][\w.-]{0,127}$/.test(name) ? parseNormalizedReference(name) : undefined;
    } catch {
      ref = undefined; // a bare tag or an odd name: load the image unnamed
    }
    pendingNames.push({ id: record.id, refs: ref !== undefined ? [ref] : [] });
  }
  for (const { id, refs } of pendingNames) {
    await service.setNames(id, refs);
    result.images.push(id);
    result.messages.push(refs[0] !== undefined ? `Loaded image: ${familiarString(refs[0])}` : `Loaded image ID: ${id}`);
  }
  return result;
}

/** Copy a manifest (or index, choosing our platform) and its blobs into the content store, verified. */
async function ingestManifestTree(service: ImageService, staged: StagedArchive, descriptor: Descriptor, depth = 0): Promise<Descriptor> {
  if (depth > 2) throw invalidArgument('INDEX_TOO_DEEP', `image archive: indexes nested too deep at ${descriptor.digest}`);
  const bytes = await ingestBlob(service, staged, descriptor, MAX_MANIFEST_BYTES);
  const doc = parseManifestOrIndex(bytes, descriptor.mediaType, `manifest ${descriptor.digest}`);
  if (doc.kind === 'index' || isIndexMediaType(descriptor.mediaType)) {
    if (doc.kind !== 'index') throw invalidArgument('NOT_AN_INDEX', `${descriptor.digest} is declared an index but is a manifest`);
    const chosen = selectPlatformManifest(doc.index, service.platform);
    if (chosen === undefined) throw notFound('NO_MATCHING_PLATFORM', `image archive index ${descriptor.digest} has no manifest for this platform`);
    return await ingestManifestTree(service, staged, chosen, depth + 1);
  }
  const config = parseImageConfig(await ingestBlob(service, staged, doc.manifest.config, MAX_CONFIG_BYTES), `config ${doc.manifest.config.digest}`);
  if (config.rootfs.diff_ids.length !== doc.manifest.layers.length) {
    throw invalidArgument('LAYER_COUNT_MISMATCH', `manifest ${descriptor.digest} has ${doc.manifest.layers.length} layers, its config ${config.rootfs.diff_ids.length} diff_ids`);
  }
  for (const layer of doc.manifest.layers) await ingestBlob(service, staged, layer, 0);
  chainIds(config.rootfs.diff_ids); // diff IDs are verified when the layers are unpacked
  return { mediaType: doc.mediaType, digest: descriptor.digest, size: descriptor.size };
}

/** Copy one blob in (the store verifies digest and size); returns its bytes when limit > 0. */
async function ingestBlob(service: ImageService, staged: StagedArchive, d: Descriptor, limit: number): Promise<Buffer> {
  const { file, size } = staged.resolve(blobPath(d.digest), `blob ${d.digest}`);
  if (size !== d.size) throw invalidArgument('SIZE_MISMATCH', `blob ${d.digest} in the image archive is ${size} bytes, descriptor says ${d.size}`);
  await writeBlobFromStream(service.content, `load-${d.digest}`, createReadStream(file), { digest: d.digest, size: d.size, mediaType: d.mediaType });
  return limit > 0 ? await service.content.readBlob(d.digest, limit) : Buffer.alloc(0);
}

