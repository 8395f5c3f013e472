// Blob uploads (distribution spec "push"): a HEAD first so existing blobs are skipped,
// then a cross-repository mount when the caller knows a repository that holds the blob,
// then POST to open an upload session and either one streamed PATCH (what docker does),
// fixed-size PATCH chunks with Content-Range, or a monolithic PUT; the closing PUT names
// the digest so the registry verifies it. Locations may be relative or absolute.
import { Readable, Transform } from 'node:stream';
import { BerthError } from '../errors/berth-error.js';
import type { Descriptor } from '../oci/image.js';
import type { RepositoryClient } from './client.js';
import { registryError } from './errors.js';
import { discardBody, headerValue, resolveLocation, type HttpResponse } from './transport.js';

export type UploadMode = 'stream' | 'chunked' | 'monolithic';

export interface BlobPushOptions {
  /** repositories on the same registry that may already hold the blob (docker's "Mounted from") */
  mountFrom?: readonly string[];
  mode?: UploadMode;
  /** PATCH size in chunked mode (default 8 MiB) */
  chunkSize?: number;
  onProgress?: (bytes: number) => void;
}

export interface BlobPushResult {
  outcome: 'exists' | 'mounted' | 'uploaded';
  /** the repository it was mounted from */
  from?: string;
}

export async function pushBlob(repo: RepositoryClient, descriptor: Descriptor, open: () => Readable,
  options: BlobPushOptions = {}): Promise<BlobPushResult> {
  const push = [repo.scope('pull,push')];
  if (await repo.blobSize(descriptor.digest, push) !== undefined) return { outcome: 'exists' };
  let location: URL | undefined;
  for (const from of options.mountFrom ?? []) {
    if (from === repo.path) continue;
    const attempt = await tryMount(repo, descriptor, from);
    if (attempt === 'mounted') return { outcome: 'mounted', from };
    if (attempt !== undefined) {
      location = attempt;
      break;
    }
  }
  location ??= await startUpload(repo, descriptor);
  const mode = options.mode ?? 'stream';
  if (mode === 'monolithic') {
    await finishUpload(repo, descriptor, location, open, options.onProgress);
  } else {
    location = mode === 'chunked'
      ? await patchChunks(repo, descriptor, location, open(), options.chunkSize ?? 8 << 20, options.onProgress)
      : await patchStream(repo, descriptor, location, open, options.onProgress);
    await finishUpload(repo, descriptor, location, undefined, undefined);
  }
  return { outcome: 'uploaded' };
}

/** 'mounted', an upload location when the registry started a normal upload instead, or undefined. */
async function tryMount(repo: RepositoryClient, descriptor: Descriptor, from: string): Promise<'mounted' | URL | undefined> {
  const query = new URLSearchParams({ mount: descriptor.digest, from });
  const response = await repo.session.send({ method: 'POST', target: `/v2/${repo.path}/blobs/uploads/?${query.toString()}` },
    [repo.scope('pull,push'), `repository:${from}:pull`]);
  if (response.status === 201) {
    await discardBody(response);
    return 'mounted';
  }
  if (response.status === 202) return uploadLocation(response, descriptor, repo);
  await discardBody(response);
  return undefined; // no right to read `from`, or mounting unsupported: upload normally
}

async function startUpload(repo: RepositoryClient, descriptor: Descriptor): Promise<URL> {
  const response = await repo.session.send({ method: 'POST', target: `/v2/${repo.path}/blobs/uploads/` }, [repo.scope('pull,push')]);
  if (response.status !== 202) throw await registryError(response, `upload of blob ${descriptor.digest} to ${repo.name}`);
  return await uploadLocation(response, descriptor, repo);
}

async function patchStream(repo: RepositoryClient, descriptor: Descriptor, location: URL, open: () => Readable,
  onProgress: ((bytes: number) => void) | undefined): Promise<URL> {
  const response = await repo.session.send({
    method: 'PATCH', target: location, headers: { 'content-type': 'application/octet-stream' },
    body: () => counted(open(), onProgress), bodyLength: descriptor.size,
  }, [repo.scope('pull,push')]);
  if (response.status !== 202) throw await registryError(response, `upload of blob ${descriptor.digest} to ${repo.name}`);
  return await uploadLocation(response, descriptor, repo);
}

async function patchChunks(repo: RepositoryClient, descriptor: Descriptor, start: URL, source: Readable, chunkSize: number,
  onProgress: ((bytes: number) => void) | undefined): Promise<URL> {
  let location = start;
  let offset = 0;
  for await (const chunk of rechunk(source, chunkSize)) {
    const response = await repo.session.send({
      method: 'PATCH', target: location, body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
    }, [repo.scope('pull,push')]);
    if (response.status !== 202) throw await registryError(response, `upload of blob ${descriptor.digest} to ${repo.name} at byte ${offset}`);
    location = await uploadLocation(response, descriptor, repo);
    offset += chunk.byteLength;
    onProgress?.(offset);
  }
  return location;
}

async function finishUpload(repo: RepositoryClient, descriptor: Descriptor, location: URL,
  open: (() => Readable) | undefined, onProgress: ((bytes: number) => void) | undefined): Promise<void> {
  const url = new URL(location);
  url.searchParams.set('digest', descriptor.digest);
  const response = await repo.session.send({
    method: 'PUT', target: url, headers: { 'content-type': 'application/octet-stream' },
    ...(open === undefined ? {} : { body: () => counted(open(), onProgress), bodyLength: descriptor.size }),
  }, [repo.scope('pull,push')]);
  if (response.status !== 201) throw await registryError(response, `upload of blob ${descriptor.digest} to ${repo.name}`);
  await discardBody(response);
  const stored = headerValue(response.headers, 'docker-content-digest');
  if (stored !== undefined && stored !== descriptor.digest) {
    throw new BerthError('invalid_argument', 'DIGEST_MISMATCH',
      `upload of blob ${descriptor.digest} to ${repo.name}: the registry stored it as ${stored}`);
  }
}

async function uploadLocation(response: HttpResponse, descriptor: Descriptor, repo: RepositoryClient): Promise<URL> {
  await discardBody(response);
  const location = headerValue(response.headers, 'location');
  if (location === undefined || location === '') {
    throw new BerthError('unavailable', 'REGISTRY_BAD_RESPONSE',
      `upload of blob ${descriptor.digest} to ${repo.name}: the registry sent no upload Location`);
  }
  return resolveLocation(response.url, location);
}

function counted(source: Readable, onProgress: ((bytes: number) => void) | undefined): Readable {
  if (onProgress === undefined) return source;
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      onProgress(bytes);
      done(null, chunk);
    },
  });
  source.on('error', (err) => counter.destroy(err));
  return source.pipe(counter);
}

/** Re-slices a byte stream into buffers of exactly `size` (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    while (pendingBytes >= size) {
      const all = Buffer.concat(pending, pendingBytes);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      pendingBytes = all.byteLength - size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
