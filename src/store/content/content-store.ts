// The content store's roles (containerd style: blobs by digest, no names). A blob is
// verified while it is written and only then renamed into place; readers re-verify.
import type { Readable } from 'node:stream';
import { isBerthError } from '../../errors/berth-error.js';
import type { Digest } from '../../oci/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
  /** media type recorded when the blob was committed, if any */
  mediaType?: string;
  /** ms since epoch of the commit */
  createdAt: number;
}

export interface ExpectedBlob {
  digest: Digest;
  /** when given, the writer rejects a blob of another size as soon as it is exceeded */
  size?: number;
  mediaType?: string;
}

/** Reading blobs. */
export interface ContentProvider {
  /** Size and media type; throws not_found (BLOB_NOT_FOUND) when absent. */
  info(digest: Digest): Promise<BlobInfo>;
  /** A stream of the blob that fails at its end if the bytes do not hash to `digest`. */
  open(digest: Digest, options?: { start?: number }): Promise<Readable>;
  /** Whole blob in memory, verified, refusing blobs larger than maxBytes (manifests, configs). */
  readBlob(digest: Digest, maxBytes: number): Promise<Buffer>;
  /** Where a store keeps blobs in files: the file of a committed blob. Its reader must verify the bytes. */
  blobPath?(digest: Digest): string;
}

/** An open ingest. `offset` is how much an interrupted earlier ingest already holds. */
export interface BlobWriter {
  readonly ref: string;
  readonly offset: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Several chunks in one system call where the writer can (no copy into one buffer). */
  writeMany?(chunks: readonly Uint8Array[]): Promise<void>;
  /** Verify digest and size, then atomically make the blob visible. Returns its info. */
  commit(): Promise<BlobInfo>;
  /** Keep the partial data for a later resume (e.g. after a dropped connection). */
  close(): Promise<void>;
  /** Discard the partial data. */
  abort(): Promise<void>;
}

/** Writing blobs. */
export interface ContentIngester {
  /**
   * Open (or resume) the ingest named `ref` for a blob expected to be `expected`. If the blob
   * already exists, the returned writer has `offset === size` and commit() is a no-op.
   */
  writer(ref: string, expected: ExpectedBlob): Promise<BlobWriter>;
}

/** Housekeeping for GC. */
export interface ContentManager {
  delete(digest: Digest): Promise<void>;
  walk(visit: (info: BlobInfo) => Promise<void> | void): Promise<void>;
}

export type ContentStore = ContentProvider & ContentIngester & ContentManager;

/** Whether `provider` holds the blob; any failure other than not_found is passed on. */
export async function hasBlob(provider: ContentProvider, digest: Digest): Promise<boolean> {
  try {
    await provider.info(digest);
    return true;
  } catch (err) {
    if (isBerthError(err, 'not_found')) return false;
    throw err;
  }
}
