// Blob downloads that survive dropped connections: the stream counts what it passed on
// and, when the connection breaks (or ends early), asks again with `Range: bytes=N-`.
// A registry that ignores Range (HTTP 200) is handled by skipping the first N bytes.
// Size and digest are checked as the bytes flow; more bytes than the descriptor says is
// an error at once, never buffered.
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { BerthError, isBerthError } from '../errors/berth-error.js';
import { Digester, digestAlgorithm } from '../oci/digest.js';
import type { Descriptor } from '../oci/image.js';
import type { RepositoryClient } from './client.js';
import { registryError } from './errors.js';
import { discardBody, headerValue, type HttpResponse } from './transport.js';

export interface BlobStreamOptions {
  /** bytes the caller already holds (an interrupted ingest); the download starts there */
  offset?: number;
  /**
   * A digester that has already seen the first `offset` bytes. Without it a resumed
   * download (offset > 0) checks the size only and the caller's store checks the digest.
   */
  digester?: Digester;
  /**
   * Hash the bytes here (default). A caller whose sink verifies the digest itself, such as
   * the content store's writer on commit, may turn this off to hash once instead of twice.
   */
  verifyDigest?: boolean;
  /** called with the total bytes held so far (offset included) */
  onProgress?: (bytes: number) => void;
  /** attempts after a broken connection before giving up (default 5) */
  maxRetries?: number;
}

export function openBlobStream(repo: RepositoryClient, descriptor: Descriptor, options: BlobStreamOptions = {}): Readable {
  return Readable.from(blobChunks(repo, descriptor, options), { objectMode: false, highWaterMark: 1 << 20 });
}

export async function readBlobBytes(repo: RepositoryClient, descriptor: Descriptor, limit: number): Promise<Buffer> {
  if (descriptor.size > limit) {
    throw new BerthError('invalid_argument', 'BLOB_TOO_LARGE',
      `blob ${descriptor.digest} of ${repo.name} is ${descriptor.size} bytes, more than the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of blobChunks(repo, descriptor, {})) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* blobChunks(repo: RepositoryClient, descriptor: Descriptor, options: BlobStreamOptions): AsyncGenerator<Buffer> {
  const what = `blob ${descriptor.digest} of ${repo.name}`;
  const maxRetries = options.maxRetries ?? 5;
  let position = options.offset ?? 0;
  const digester = options.digester
    ?? (position === 0 && options.verifyDigest !== false ? new Digester(digestAlgorithm(descriptor.digest)) : undefined);
  let failures = 0;
  if (position > descriptor.size) throw sizeMismatch(what, descriptor.size, position);
  while (position < descriptor.size) {
    let response: HttpResponse;
    let skip: number;
    try {
      response = await requestFrom(repo, descriptor, position);
      skip = await checkResponse(response, position, what);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (++failures > maxRetries) throw lost(what, position, err);
      await sleep(100 * failures);
      continue;
    }
    const before = position;
    try {
      for await (const raw of response.body as AsyncIterable<Buffer>) {
        let chunk = raw;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.byteLength);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
          if (chunk.byteLength === 0) continue;
        }
        if (position + chunk.byteLength > descriptor.size) {
          response.body.destroy();
          throw sizeMismatch(what, descriptor.size, position + chunk.byteLength);
        }
        digester?.update(chunk);
        position += chunk.byteLength;
        options.onProgress?.(position);
        yield chunk;
      }
    } catch (err) {
      if (isBerthError(err)) throw err;
      if (position > before) failures = 0;
      if (++failures > maxRetries) throw lost(what, position, err);
      await sleep(100 * failures);
      continue;
    }
    if (position < descriptor.size) {
      // the server closed a complete-looking response early: try again from here
      if (position > before) failures = 0;
      if (++failures > maxRetries) throw lost(what, position, undefined);
    }
  }
  if (digester !== undefined) {
    const actual = digester.digest();
    if (actual !== descriptor.digest) {
      throw new BerthError('invalid_argument', 'DIGEST_MISMATCH', `${what}: digest mismatch: expected ${descriptor.digest}, got ${actual}`,
        { detail: { expected: descriptor.digest, actual } });
    }
  }
}

async function requestFrom(repo: RepositoryClient, descriptor: Descriptor, position: number): Promise<HttpResponse> {
  const headers: Record<string, string> = position > 0 ? { range: `bytes=${position}-` } : {};
  return await repo.session.send({ method: 'GET', target: repo.blobPath(descriptor.digest), headers }, [repo.scope('pull')]);
}

/** How many leading bytes of the body to drop: 0 for a fitting 206 or a fresh 200. */
async function checkResponse(response: HttpResponse, position: number, what: string): Promise<number> {
  if (response.status === 200) return position;
  if (response.status === 206) {
    const range = /^bytes (\d+)-/.exec(headerValue(response.headers, 'content-range') ?? '');
    if (range === null || Number(range[1]) !== position) {
      await discardBody(response);
      throw new BerthError('unavailable', 'REGISTRY_BAD_RESPONSE', `${what}: the registry answered a range request from byte ${position} with a different range`);
    }
    return 0;
  }
  if (TRANSIENT_STATUSES.has(response.status)) {
    await discardBody(response);
    throw new BerthError('unavailable', 'REGISTRY_BUSY', `${what}: registry answered HTTP ${response.status}`);
  }
  throw await registryError(response, what);
}

/** Answers worth another try after a pause (docker retries these too). */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

function isRetryable(err: unknown): boolean {
  return isBerthError(err) && (err.code === 'REGISTRY_UNREACHABLE' || err.code === 'REGISTRY_CONNECTION_LOST' || err.code === 'REGISTRY_BUSY');
}

function sizeMismatch(what: string, expected: number, atLeast: number): BerthError {
  return new BerthError('invalid_argument', 'SIZE_MISMATCH', `${what}: size mismatch: expected ${expected} bytes, got at least ${atLeast}`,
    { detail: { expected, actual: atLeast } });
}

function lost(what: string, position: number, cause: unknown): BerthError {
  const reason = isBerthError(cause) && cause.code === 'REGISTRY_BUSY' ? cause.message.slice(what.length + 2) : 'connection lost';
  return new BerthError('unavailable', 'REGISTRY_CONNECTION_LOST', `${what}: ${reason} after ${position} bytes, retries exhausted`,
    cause === undefined ? {} : { cause });
}
