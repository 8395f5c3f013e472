// Blobs as files: <root>/blobs/<alg>/<hex>, ingests in <root>/ingest/<hash of ref>/data.
// A blob becomes visible only by rename after its digest and size were checked, so a
// kill -9 at any instant leaves either no blob or a whole, verified one.
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { conflict, errnoCode, internal, invalidArgument, notFound } from '../../errors/berth-error.js';
import { Digester, digestAlgorithm, digestHex, isDigest, type Digest } from '../../oci/digest.js';
import { syncDirectory, writeJsonAtomic } from '../../util/atomic-file.js';
import type { BlobInfo, BlobWriter, ContentStore, ExpectedBlob } from './content-store.js';

/** No single blob may exceed this without an expected size (a bound on hostile streams). */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024 * 1024;

export class FileContentStore implements ContentStore {
  private readonly activeIngests = new Set<string>();

  constructor(readonly root: string) {}

  blobPath(digest: Digest): string {
    return path.join(this.root, 'blobs', digestAlgorithm(digest), digestHex(digest));
  }

  private metaPath(digest: Digest): string {
    return path.join(this.root, 'meta', digestAlgorithm(digest), `${digestHex(digest)}.json`);
  }

  async info(digest: Digest): Promise<BlobInfo> {
    let st;
    try {
      st = await stat(this.blobPath(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('BLOB_NOT_FOUND', `blob ${digest} not found in the content store`);
      throw err;
    }
    const info: BlobInfo = { digest, size: st.size, createdAt: st.mtimeMs };
    const mediaType = await this.readMediaType(digest);
    if (mediaType !== undefined) info.mediaType = mediaType;
    return info;
  }

  async has(digest: Digest): Promise<boolean> {
    return await stat(this.blobPath(digest)).then(() => true, () => false);
  }

  private async readMediaType(digest: Digest): Promise<string | undefined> {
    try {
      const meta: unknown = JSON.parse(await readFile(this.metaPath(digest), 'utf8'));
      if (typeof meta === 'object' && meta !== null && 'mediaType' in meta && typeof meta.mediaType === 'string') return meta.mediaType;
    } catch {
      // no or unreadable metadata: the media type is simply unknown
    }
    return undefined;
  }

  async open(digest: Digest, options: { start?: number } = {}): Promise<Readable> {
    await this.info(digest);
    const start = options.start ?? 0;
    // 1 MiB reads: a layer blob is read whole, and each read is a thread-pool round trip
    const stream = createReadStream(this.blobPath(digest), { start, highWaterMark: 1 << 20 });
    if (start !== 0) return stream;
    const verify = new VerifyingStream(digest);
    stream.on('error', (err) => verify.destroy(err));
    return stream.pipe(verify);
  }

  async readBlob(digest: Digest, maxBytes: number): Promise<Buffer> {
    const info = await this.info(digest);
    if (info.size > maxBytes) {
      throw invalidArgument('BLOB_TOO_LARGE', `blob ${digest} is ${info.size} bytes, more than the limit of ${maxBytes}`);
    }
    const data = await readFile(this.blobPath(digest));
    const actual = `${digestAlgorithm(digest)}:${createHash(digestAlgorithm(digest)).update(data).digest('hex')}`;
    if (actual !== digest) throw corruptBlob(digest, actual);
    return data;
  }

  async writer(ref: string, expected: ExpectedBlob): Promise<BlobWriter> {
    if (!isDigest(expected.digest)) throw invalidArgument('INVALID_DIGEST', `ingest ${ref}: invalid expected digest`);
    if (await this.has(expected.digest)) {
      const info = await this.info(expected.digest);
      if (expected.size !== undefined && info.size !== expected.size) {
        throw invalidArgument('SIZE_MISMATCH', `blob ${expected.digest} is ${info.size} bytes, expected ${expected.size}`);
      }
      return new ExistingBlobWriter(ref, info);
    }
    const key = createHash('sha256').update(ref).digest('hex');
    if (this.activeIngests.has(key)) throw conflict('INGEST_BUSY', `ingest ${ref} is already being written`);
    this.activeIngests.add(key);
    try {
      const dir = path.join(this.root, 'ingest', key);
      await mkdir(dir, { recursive: true });
      await writeJsonAtomic(path.join(dir, 'ref.json'), { ref, expected });
      const { handle, digester } = await resumeIngest(path.join(dir, 'data'), expected);
      return new FileBlobWriter(this, ref, dir, handle, digester, expected, () => this.activeIngests.delete(key));
    } catch (err) {
      this.activeIngests.delete(key);
      throw err;
    }
  }

  /** Called by a writer whose bytes were verified: move into place and record the media type. */
  async publish(dataFile: string, expected: ExpectedBlob): Promise<BlobInfo> {
    const target = this.blobPath(expected.digest);
    await mkdir(path.dirname(target), { recursive: true });
    if (expected.mediaType !== undefined) await writeJsonAtomic(this.metaPath(expected.digest), { mediaType: expected.mediaType });
    await rename(dataFile, target);
    await syncDirectory(path.dirname(target));
    return await this.info(expected.digest);
  }

  async delete(digest: Digest): Promise<void> {
    try {
      await unlink(this.blobPath(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('BLOB_NOT_FOUND', `blob ${digest} not found in the content store`);
      throw err;
    }
    await rm(this.metaPath(digest), { force: true });
  }

  async walk(visit: (info: BlobInfo) => Promise<void> | void): Promise<void> {
    for (const algorithm of ['sha256', 'sha512']) {
      let names: string[];
      try {
        names = await readdir(path.join(this.root, 'blobs', algorithm));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      for (const name of names) {
        const digest = `${algorithm}:${name}`;
        if (!isDigest(digest)) continue; // stray files are not blobs
        const info = await this.info(digest).catch(() => undefined);
        if (info !== undefined) await visit(info);
      }
    }
  }

  /** Remove ingests older than `maxAgeMs` that no writer holds (left by crashes). */
  async sweepIngests(maxAgeMs: number): Promise<number> {
    const dir = path.join(this.root, 'ingest');
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      if (this.activeIngests.has(name)) continue;
      const st = await stat(path.join(dir, name)).catch(() => undefined);
      if (st !== undefined && Date.now() - st.mtimeMs > maxAgeMs) {
        await rm(path.join(dir, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** Reopen a partial ingest: re-hash what is there (never trust it), truncate if it is too long. */
async function resumeIngest(dataFile: string, expected: ExpectedBlob): Promise<{ handle: FileHandle; digester: Digester }> {
  const digester = new Digester(digestAlgorithm(expected.digest));
  const existing = await stat(dataFile).then((s) => s.size, () => 0);
  if (existing > 0 && (expected.size === undefined || existing <= expected.size)) {
    await pipeline(createReadStream(dataFile), async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) digester.update(chunk);
    });
    return { handle: await open(dataFile, 'a'), digester };
  }
  return { handle: await open(dataFile, 'w'), digester };
}

class FileBlobWriter implements BlobWriter {
  private finished = false;

  constructor(
    private readonly store: FileContentStore,
    readonly ref: string,
    private readonly dir: string,
    private readonly handle: FileHandle,
    private readonly digester: Digester,
    private readonly expected: ExpectedBlob,
    private readonly release: () => void,
  ) {}

  get offset(): number {
    return this.digester.size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.finished) throw internal('INGEST_CLOSED', `ingest ${this.ref} is already closed`);
    const limit = this.expected.size ?? MAX_BLOB_BYTES;
    if (this.digester.size + chunk.byteLength > limit) {
      await this.abort();
      throw invalidArgument('SIZE_MISMATCH',
        `blob ${this.expected.digest} is larger than its expected ${limit} bytes`);
    }
    this.digester.update(chunk);
    await this.handle.write(chunk);
  }

  async writeMany(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.finished) throw internal('INGEST_CLOSED', `ingest ${this.ref} is already closed`);
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const limit = this.expected.size ?? MAX_BLOB_BYTES;
    if (this.digester.size + total > limit) {
      await this.abort();
      throw invalidArgument('SIZE_MISMATCH', `blob ${this.expected.digest} is larger than its expected ${limit} bytes`);
    }
    for (const chunk of chunks) this.digester.update(chunk);
    const { bytesWritten } = await this.handle.writev(chunks as Uint8Array[]);
    // a short writev is rare on regular files; write what is left the plain way
    if (bytesWritten < total) await this.handle.write(Buffer.concat(chunks).subarray(bytesWritten));
  }

  async commit(): Promise<BlobInfo> {
    if (this.finished) throw internal('INGEST_CLOSED', `ingest ${this.ref} is already closed`);
    const { digest, size } = this.expected;
    if (size !== undefined && this.digester.size !== size) {
      await this.abort();
      throw invalidArgument('SIZE_MISMATCH', `blob ${digest} is ${this.digester.size} bytes, expected ${size} (truncated?)`);
    }
    const actual = this.digester.peek();
    if (actual !== digest) {
      await this.abort();
      throw invalidArgument('DIGEST_MISMATCH', `blob content does not match its digest: expected ${digest}, got ${actual}`);
    }
    await this.handle.sync();
    await this.finish();
    const info = await this.store.publish(path.join(this.dir, 'data'), this.expected);
    await rm(this.dir, { recursive: true, force: true });
    return info;
  }

  async close(): Promise<void> {
    if (this.finished) return;
    await this.handle.sync().catch(() => undefined);
    await this.finish();
  }

  async abort(): Promise<void> {
    await this.finish();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.release();
    await this.handle.close();
  }
}

class ExistingBlobWriter implements BlobWriter {
  readonly offset: number;
  constructor(readonly ref: string, private readonly info: BlobInfo) {
    this.offset = info.size;
  }
  async write(): Promise<void> {
    throw conflict('BLOB_EXISTS', `blob ${this.info.digest} already exists; nothing to write`);
  }
  async commit(): Promise<BlobInfo> {
    return this.info;
  }
  async close(): Promise<void> {}
  async abort(): Promise<void> {}
}

/** Passes bytes through and fails at the end when they do not hash to the digest. */
class VerifyingStream extends Transform {
  private readonly digester: Digester;
  constructor(private readonly digest: Digest) {
    super();
    this.digester = new Digester(digestAlgorithm(digest));
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.digester.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    const actual = this.digester.digest();
    done(actual === this.digest ? null : corruptBlob(this.digest, actual));
  }
}

function corruptBlob(digest: Digest, actual: string): Error {
  return internal('BLOB_CORRUPT', `blob ${digest} in the content store is corrupt (hashes to ${actual})`,
    { hint: 'remove the image and pull or load it again' });
}

/** Store a whole in-memory blob (manifests, configs). */
export async function writeBlob(store: ContentStore, data: Uint8Array, expected: ExpectedBlob): Promise<BlobInfo> {
  return await writeBlobFromStream(store, `blob-${expected.digest}`, [data], { ...expected, size: expected.size ?? data.byteLength });
}

/** Store a blob from a stream of bytes (a no-op when it exists), starting over any partial ingest. */
export async function writeBlobFromStream(store: ContentStore, ref: string, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, expected: ExpectedBlob): Promise<BlobInfo> {
  const existing = await store.info(expected.digest).catch(() => undefined);
  if (existing !== undefined) return existing;
  let writer = await store.writer(ref, expected);
  if (writer.offset !== 0) {
    await writer.abort();
    writer = await store.writer(ref, expected);
  }
  try {
    for await (const chunk of source) await writer.write(chunk);
    return await writer.commit();
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}
