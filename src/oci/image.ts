// The OCI image spec and Docker's image manifest v2 schema 2 as types plus zod schemas.
// Everything read from a registry, an archive or the store goes through the parse*
// functions here, which reject bad JSON with an error naming the offending field.
import { z } from 'zod';
import { invalidArgument } from '../errors/berth-error.js';
import { isDigest, type Digest } from './digest.js';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type LayerCompression = 'none' | 'gzip' | 'zstd';

const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);
const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);
const LAYER_COMPRESSION: ReadonlyMap<string, LayerCompression> = new Map([
  [MediaType.ociLayer, 'none'], [MediaType.ociLayerGzip, 'gzip'], [MediaType.ociLayerZstd, 'zstd'],
  [MediaType.ociLayerNondistributable, 'none'], [MediaType.ociLayerNondistributableGzip, 'gzip'],
  [MediaType.ociLayerNondistributableZstd, 'zstd'],
  [MediaType.dockerLayer, 'none'], [MediaType.dockerLayerGzip, 'gzip'], [MediaType.dockerLayerZstd, 'zstd'],
  [MediaType.dockerForeignLayer, 'gzip'],
]);

export const isManifestMediaType = (t: string | undefined): boolean => t !== undefined && MANIFEST_TYPES.has(t);
export const isIndexMediaType = (t: string | undefined): boolean => t !== undefined && INDEX_TYPES.has(t);
export const isConfigMediaType = (t: string | undefined): boolean => t !== undefined && CONFIG_TYPES.has(t);
export const isLayerMediaType = (t: string | undefined): boolean => t !== undefined && LAYER_COMPRESSION.has(t);
/** Foreign / non-distributable layers are not pushed (Docker skips them too). */
export const isForeignLayerMediaType = (t: string): boolean =>
  t === MediaType.dockerForeignLayer || t.startsWith('application/vnd.oci.image.layer.nondistributable.');

/** Compression of a layer media type; undefined when it is not a layer type we know. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  return LAYER_COMPRESSION.get(mediaType);
}

/** Hard limits on JSON documents from strangers (containerd uses 4 MiB for manifests). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
export const MAX_LAYERS = 1000;

const digestSchema = z.string().refine(isDigest, { message: 'not a valid sha256/sha512 digest' })
  .transform((s) => s as Digest);
const annotations = z.record(z.string(), z.string());
const mediaTypeSchema = z.string().min(1).max(255).regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/,
  { message: 'not a valid media type' });

export const platformSchema = z.object({
  architecture: z.string().max(64),
  os: z.string().max(64),
  'os.version': z.string().max(255).optional(),
  'os.features': z.array(z.string()).max(64).optional(),
  variant: z.string().max(64).optional(),
  features: z.array(z.string()).max(64).optional(),
});
export type Platform = z.infer<typeof platformSchema>;

export const descriptorSchema = z.object({
  mediaType: mediaTypeSchema,
  digest: digestSchema,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string()).max(64).optional(),
  annotations: annotations.optional(),
  data: z.string().optional(),
  platform: platformSchema.optional(),
  artifactType: mediaTypeSchema.optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaTypeSchema.optional(),
  artifactType: mediaTypeSchema.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(MAX_LAYERS),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaTypeSchema.optional(),
  artifactType: mediaTypeSchema.optional(),
  manifests: z.array(descriptorSchema).max(10_000),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});
export type Index = z.infer<typeof indexSchema>;

const emptyObjectMap = z.record(z.string(), z.object({}).passthrough());
const stringList = z.array(z.string());

export const healthcheckSchema = z.object({
  Test: stringList.optional().nullable(),
  Interval: z.number().int().optional(),
  Timeout: z.number().int().optional(),
  StartPeriod: z.number().int().optional(),
  StartInterval: z.number().int().optional(),
  Retries: z.number().int().optional(),
}).passthrough();
export type Healthcheck = z.infer<typeof healthcheckSchema>;

/** The runtime part of an image config: OCI fields plus Docker's extra ones. */
export const containerConfigSchema = z.object({
  User: z.string().optional(),
  ExposedPorts: emptyObjectMap.optional().nullable(),
  Env: stringList.optional().nullable(),
  Entrypoint: stringList.optional().nullable(),
  Cmd: stringList.optional().nullable(),
  Volumes: emptyObjectMap.optional().nullable(),
  WorkingDir: z.string().optional(),
  Labels: z.record(z.string(), z.string()).optional().nullable(),
  StopSignal: z.string().optional(),
  ArgsEscaped: z.boolean().optional(),
  Healthcheck: healthcheckSchema.optional().nullable(),
  OnBuild: stringList.optional().nullable(),
  Shell: stringList.optional().nullable(),
}).passthrough();
export type ContainerConfig = z.infer<typeof containerConfigSchema>;

export const historySchema = z.object({
  created: z.string().optional(),
  created_by: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  empty_layer: z.boolean().optional(),
}).passthrough();
export type History = z.infer<typeof historySchema>;

export const imageConfigSchema = z.object({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string().max(64),
  os: z.string().max(64),
  'os.version': z.string().optional(),
  'os.features': stringList.optional(),
  variant: z.string().max(64).optional(),
  config: containerConfigSchema.optional().nullable(),
  rootfs: z.object({
    type: z.literal('layers'),
    diff_ids: z.array(digestSchema).max(MAX_LAYERS),
  }),
  history: z.array(historySchema).optional(),
}).passthrough();
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** Parse JSON bytes with a size bound; `what` names the document in errors (e.g. the digest). */
function parseJsonBytes(bytes: Uint8Array | string, what: string, limit: number): unknown {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > limit) {
    throw invalidArgument('DOCUMENT_TOO_LARGE', `${what} is ${size} bytes, more than the limit of ${limit}`);
  }
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw invalidArgument('MALFORMED_JSON', `${what} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** Validate foreign data against a schema; the error names the first bad field by its path. */
export function validate<T extends z.ZodTypeAny>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.output<T>;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(document)';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : '';
  throw invalidArgument('INVALID_DOCUMENT', `${what}: field "${field}": ${issue?.message ?? 'invalid'}${more}`,
    { detail: { field, issues: result.error.issues.slice(0, 10) } });
}

export function parseManifest(bytes: Uint8Array | string, what = 'image manifest'): Manifest {
  const manifest = validate(manifestSchema, parseJsonBytes(bytes, what, MAX_MANIFEST_BYTES), what);
  if (manifest.mediaType !== undefined && !MANIFEST_TYPES.has(manifest.mediaType)) {
    throw invalidArgument('INVALID_DOCUMENT', `${what}: field "mediaType": "${manifest.mediaType}" is not an image manifest type`);
  }
  return manifest;
}

export function parseIndex(bytes: Uint8Array | string, what = 'image index'): Index {
  const index = validate(indexSchema, parseJsonBytes(bytes, what, MAX_MANIFEST_BYTES), what);
  if (index.mediaType !== undefined && !INDEX_TYPES.has(index.mediaType)) {
    throw invalidArgument('INVALID_DOCUMENT', `${what}: field "mediaType": "${index.mediaType}" is not an index type`);
  }
  return index;
}

export function parseImageConfig(bytes: Uint8Array | string, what = 'image config'): ImageConfig {
  return validate(imageConfigSchema, parseJsonBytes(bytes, what, MAX_CONFIG_BYTES), what);
}

export type ManifestOrIndex = { kind: 'manifest'; mediaType: string; manifest: Manifest } | { kind: 'index'; mediaType: string; index: Index };

/**
 * Parse a document that may be a manifest or an index. The media type comes from the
 * Content-Type or descriptor when known, otherwise from the document itself (or its shape).
 */
export function parseManifestOrIndex(bytes: Uint8Array | string, mediaType?: string, what = 'manifest'): ManifestOrIndex {
  const raw = parseJsonBytes(bytes, what, MAX_MANIFEST_BYTES);
  const declared = typeof raw === 'object' && raw !== null && 'mediaType' in raw && typeof raw.mediaType === 'string'
    ? raw.mediaType : undefined;
  const schemaVersion = typeof raw === 'object' && raw !== null && 'schemaVersion' in raw ? raw.schemaVersion : undefined;
  const type = declared ?? (mediaType && mediaType !== 'application/json' ? mediaType : undefined);
  if (type === MediaType.dockerSchema1Manifest || type === MediaType.dockerSchema1SignedManifest || schemaVersion === 1) {
    throw invalidArgument('UNSUPPORTED_MANIFEST', `${what}: Docker schema 1 manifests are not supported`,
      { hint: 'push the image again with a current docker or use an OCI manifest' });
  }
  const isIndex = type !== undefined ? INDEX_TYPES.has(type)
    : typeof raw === 'object' && raw !== null && 'manifests' in raw;
  if (isIndex) {
    const index = validate(indexSchema, raw, what);
    return { kind: 'index', mediaType: type ?? MediaType.ociIndex, index };
  }
  if (type !== undefined && !MANIFEST_TYPES.has(type)) {
    throw invalidArgument('UNSUPPORTED_MANIFEST', `${what}: unsupported media type "${type}"`);
  }
  const manifest = validate(manifestSchema, raw, what);
  return { kind: 'manifest', mediaType: type ?? MediaType.ociManifest, manifest };
}

/** The platform berth runs on, in OCI terms (Node's arch names differ from Go's). */
export function hostPlatform(): Platform {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  const platform: Platform = { os: 'linux', architecture: arch };
  if (arch === 'arm64') platform.variant = 'v8';
  if (arch === 'arm') platform.variant = 'v7';
  return platform;
}

/** Parse `os/arch[/variant]` as given to `--platform`. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw invalidArgument('INVALID_PLATFORM', `invalid platform "${text}": expected os/arch[/variant]`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/** containerd's normalisation: aarch64 -> arm64, x86_64 -> amd64, arm64's default variant v8. */
export function normalizePlatform(p: Platform): Platform {
  const aliases: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };
  const architecture = aliases[p.architecture] ?? p.architecture;
  let variant = p.variant;
  if (architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (architecture === 'arm' && variant === undefined) variant = p.architecture === 'armel' ? 'v6' : 'v7';
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  const out: Platform = { os: p.os, architecture };
  if (variant !== undefined) out.variant = variant;
  return out;
}

/** Whether an image built for `candidate` runs on `want` (variants respected: v7 runs v6, v8 images need v8). */
export function platformMatches(want: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(want);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  if (w.variant === undefined || c.variant === undefined) return true;
  if (w.variant === c.variant) return true;
  const level = (v: string): number => Number.parseInt(v.replace(/^v/, ''), 10);
  // an older variant runs on a newer CPU of the same family (arm v6 on v7, amd64 v2 on v3)
  return !Number.isNaN(level(w.variant)) && level(c.variant) <= level(w.variant);
}

/**
 * Choose the manifest for a platform from an index: exact variant first, then the best
 * compatible one. Attestation manifests (`unknown/unknown`) are never chosen.
 */
export function selectPlatformManifest(index: Index, want: Platform = hostPlatform()): Descriptor | undefined {
  const candidates = index.manifests.filter((d) => d.platform !== undefined && platformMatches(want, d.platform)
    && (isManifestMediaType(d.mediaType) || isIndexMediaType(d.mediaType)));
  const wanted = normalizePlatform(want);
  const score = (d: Descriptor): number => {
    const p = normalizePlatform(d.platform as Platform);
    if (p.variant === wanted.variant) return 1000;
    return p.variant === undefined ? 0 : Number.parseInt(p.variant.replace(/^v/, ''), 10) || 1;
  };
  let best: Descriptor | undefined;
  for (const d of candidates) if (best === undefined || score(d) > score(best)) best = d;
  return best;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}
