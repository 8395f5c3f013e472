// The OCI distribution client: one RegistryClient per engine (it keeps connections,
// schemes, challenges and tokens per registry host), and a RepositoryClient per
// repository for manifests, blobs and tags. Every manifest digest is verified here;
// blobs are verified as they stream (blob-download.ts).
import { BerthError, invalidArgument } from '../errors/berth-error.js';
import { digestAlgorithm, digestOf, isDigest, type Digest } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, MediaType, type Descriptor } from '../oci/image.js';
import type { Credentials } from './auth/credentials.js';
import { TokenCache } from './auth/tokens.js';
import { openBlobStream, readBlobBytes, type BlobStreamOptions } from './blob-download.js';
import { pushBlob, type BlobPushOptions, type BlobPushResult } from './blob-upload.js';
import { registryError } from './errors.js';
import { isInsecure, resolveEndpoint, type RegistryHostPolicy } from './hosts.js';
import { RegistrySession, type CredentialSource, type PingResult } from './session.js';
import { discardBody, headerValue, HttpTransport, readBody, type Transport } from './transport.js';
import type { Readable } from 'node:stream';

/** What a manifest GET asks for: every image manifest and index type berth understands. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
].join(', ');

export interface RegistryClientOptions extends RegistryHostPolicy {
  credentials?: CredentialSource;
  transport?: Transport;
  /** where per-host CA and client certificates live (default /etc/berth/certs.d and /etc/docker/certs.d) */
  certDirs?: readonly string[];
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface ManifestHead {
  digest: Digest;
  mediaType: string;
  size: number;
}

export class RegistryClient {
  readonly transport: Transport;
  private readonly tokens: TokenCache;
  private readonly sessions = new Map<string, RegistrySession>();

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.transport = options.transport ?? new HttpTransport({
      tls: {
        ...(options.certDirs === undefined ? {} : { certDirs: options.certDirs }),
        isInsecure: (host) => isInsecure(host, options),
      },
    });
    this.tokens = new TokenCache(this.transport);
  }

  /** A repository such as ("localhost:5000", "team/app"); the registry name as in references. */
  repository(registry: string, path: string): RepositoryClient {
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) {
      throw invalidArgument('INVALID_REPOSITORY', `invalid repository name "${path.slice(0, 100)}"`);
    }
    return new RepositoryClient(this.session(registry), path);
  }

  session(registry: string): RegistrySession {
    const endpoint = resolveEndpoint(registry, this.options);
    let session = this.sessions.get(endpoint.name);
    if (session === undefined) {
      session = new RegistrySession(endpoint, this.transport, this.tokens, this.options.credentials);
      this.sessions.set(endpoint.name, session);
    }
    return session;
  }

  /** A session with explicit credentials, not shared (used by login to verify them). */
  sessionWith(registry: string, credentials: Credentials): RegistrySession {
    return new RegistrySession(resolveEndpoint(registry, this.options), this.transport, new TokenCache(this.transport), undefined, credentials);
  }

  close(): void {
    this.transport.close();
  }
}

export class RepositoryClient {
  constructor(readonly session: RegistrySession, readonly path: string) {}

  get name(): string {
    return `${this.session.endpoint.name}/${this.path}`;
  }

  async ping(): Promise<PingResult> {
    return await this.session.ping();
  }

  /** GET a manifest or index by tag or digest; the bytes are verified against the digest. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const what = `manifest ${this.display(reference)}`;
    const response = await this.session.send({
      method: 'GET', target: this.manifestPath(reference), headers: { accept: MANIFEST_ACCEPT },
    }, [this.scope('pull')]);
    if (response.status !== 200) throw await registryError(response, what);
    const bytes = await readBody(response, MAX_MANIFEST_BYTES, what);
    const mediaType = contentType(headerValue(response.headers, 'content-type'));
    const digest = verifyManifestDigest(bytes, reference, headerValue(response.headers, 'docker-content-digest'), what);
    return { bytes, mediaType, digest };
  }

  /** HEAD a manifest: its digest, media type and size without the body; undefined if absent. */
  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    const what = `manifest ${this.display(reference)}`;
    const response = await this.session.send({
      method: 'HEAD', target: this.manifestPath(reference), headers: { accept: MANIFEST_ACCEPT },
    }, [this.scope('pull')]);
    await discardBody(response);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw await registryError(response, what);
    const header = headerValue(response.headers, 'docker-content-digest');
    const digest = isDigest(reference) ? reference : header;
    if (!isDigest(digest)) {
      throw new BerthError('unavailable', 'REGISTRY_BAD_RESPONSE', `${what}: the registry sent no valid Docker-Content-Digest`);
    }
    if (isDigest(reference) && header !== undefined && header !== reference) {
      throw digestMismatch(what, reference, header);
    }
    return {
      digest,
      mediaType: contentType(headerValue(response.headers, 'content-type')),
      size: Number(headerValue(response.headers, 'content-length') ?? -1),
    };
  }

  /** PUT a manifest under a tag or its digest; returns the digest, checked against the registry's. */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const digest = digestOf(bytes);
    const what = `manifest ${this.display(reference)}`;
    if (isDigest(reference) && reference !== digest) throw digestMismatch(what, reference, digest);
    const response = await this.session.send({
      method: 'PUT', target: this.manifestPath(reference), headers: { 'content-type': mediaType }, body: bytes,
    }, [this.scope('pull,push')]);
    if (response.status !== 201 && response.status !== 200) throw await registryError(response, what);
    await discardBody(response);
    const stored = headerValue(response.headers, 'docker-content-digest');
    if (stored !== undefined && isDigest(stored) && digestAlgorithm(stored) === 'sha256' && stored !== digest) {
      throw digestMismatch(what, digest, stored);
    }
    return digest;
  }

  /** HEAD a blob: its size when the registry has it, undefined when not. */
  async blobSize(digest: Digest, scopes: readonly string[] = [this.scope('pull')]): Promise<number | undefined> {
    const response = await this.session.send({ method: 'HEAD', target: this.blobPath(digest) }, scopes);
    await discardBody(response);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw await registryError(response, `blob ${digest} in ${this.name}`);
    return Number(headerValue(response.headers, 'content-length') ?? -1);
  }

  /** A stream of the blob's bytes that resumes with Range after a dropped connection and verifies size and digest. */
  openBlob(descriptor: Descriptor, options: BlobStreamOptions = {}): Readable {
    return openBlobStream(this, descriptor, options);
  }

  /** A small blob (an image config) read whole, bounded by `limit`, verified. */
  async readBlob(descriptor: Descriptor, limit: number): Promise<Buffer> {
    return await readBlobBytes(this, descriptor, limit);
  }

  /** Upload a blob unless present: HEAD, cross-repository mount, then POST/PATCH/PUT. */
  async pushBlob(descriptor: Descriptor, open: () => Readable, options: BlobPushOptions = {}): Promise<BlobPushResult> {
    return await pushBlob(this, descriptor, open, options);
  }

  /** All tags, following `Link: <...>; rel="next"` pagination. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let target: string | undefined = `/v2/${this.path}/tags/list`;
    for (let page = 0; target !== undefined && page < 1000; page++) {
      const response = await this.session.send({ method: 'GET', target }, [this.scope('pull')]);
      if (response.status !== 200) throw await registryError(response, `tags of ${this.name}`);
      const body = await readBody(response, MAX_MANIFEST_BYTES, `tag list of ${this.name}`);
      tags.push(...parseTagList(body, this.name));
      target = nextLink(headerValue(response.headers, 'link'));
    }
    return tags;
  }

  scope(actions: string): string {
    return `repository:${this.path}:${actions}`;
  }

  blobPath(digest: Digest): string {
    return `/v2/${this.path}/blobs/${digest}`;
  }

  display(reference: string): string {
    return `${this.name}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  private manifestPath(reference: string): string {
    if (!isDigest(reference) && !/^[\w][\w.-]{0,127}$/.test(reference)) {
      throw invalidArgument('INVALID_REFERENCE', `invalid tag or digest "${reference.slice(0, 140)}" for ${this.name}`);
    }
    return `/v2/${this.path}/manifests/${reference}`;
  }
}

function verifyManifestDigest(bytes: Buffer, reference: string, header: string | undefined, what: string): Digest {
  if (isDigest(reference)) {
    const actual = digestOf(bytes, digestAlgorithm(reference));
    if (actual !== reference) throw digestMismatch(what, reference, actual);
    return reference;
  }
  const digest = digestOf(bytes);
  if (header !== undefined && isDigest(header)) {
    const actual = digestAlgorithm(header) === 'sha256' ? digest : digestOf(bytes, digestAlgorithm(header));
    if (actual !== header) throw digestMismatch(what, header, actual);
  }
  return digest;
}

export function digestMismatch(what: string, expected: string, actual: string): BerthError {
  return new BerthError('invalid_argument', 'DIGEST_MISMATCH', `${what}: digest mismatch: expected ${expected}, got ${actual}`,
    { detail: { expected, actual } });
}

function contentType(value: string | undefined): string {
  return (value ?? '').split(';')[0]?.trim() ?? '';
}

function parseTagList(body: Buffer, name: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new BerthError('unavailable', 'REGISTRY_BAD_RESPONSE', `tag list of ${name} is not valid JSON`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || !('tags' in parsed)) return [];
  const tags = parsed.tags;
  if (tags === null) return [];
  if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string')) {
    throw new BerthError('unavailable', 'REGISTRY_BAD_RESPONSE', `tag list of ${name}: field "tags" is not a list of strings`);
  }
  return tags;
}

function nextLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return match?.[1];
}
