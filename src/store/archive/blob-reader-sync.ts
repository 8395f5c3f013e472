// A compressed layer blob read synchronously from its file and decompressed into one reused
// buffer (for the unpack worker: no allocation, promise or thread-pool trip per chunk). The
// magic bytes decide the format, as containerd does (gzip, zstd or a plain tar). The blob's
// own digest is re-verified while it is read (the content store never trusts a file on read),
// and the uncompressed bytes are hashed for the diff ID.
//
// gzip goes through zlib's handle, the object node's own zlibSync functions drive: a stream's
// chunks are fresh 16-256 KiB buffers, and allocating, faulting in and collecting them cost
// more than the inflate itself (51 MB: 22 ms of CPU into one 64 KiB buffer, 50-110 ms as a
// stream). Where a node version lacks that handle, a plain stream-free inflate is not
// available, so the caller is told (undefined) and takes the streaming path.
import { closeSync, openSync, readSync } from 'node:fs';
import { createGunzip, constants as zlibConstants } from 'node:zlib';
import { Decompress } from 'fzstd';
import { internal, invalidArgument } from '../../errors/berth-error.js';
import { Digester, digestAlgorithm, type Digest } from '../../oci/digest.js';

/** zstd frames declaring a window above this are refused (the decoder allocates the window). */
export const MAX_ZSTD_WINDOW = 128 << 20;
const ZSTD_MAGIC = 0xfd2fb528;

const INPUT_BYTES = 1 << 20;
/** decompressed bytes per chunk: small enough that hashing and writing them finds them in cache */
const OUTPUT_BYTES = 128 << 10;

export interface BlobReaderSync {
  /** The next uncompressed chunk (valid until the next call), undefined at the end. */
  next(): Buffer | undefined;
  /** Read to the end; the digest of all uncompressed bytes. Throws when the blob's digest is wrong. */
  finish(): Digest;
  close(): void;
}

interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

/** zlib's handle and its result slots [avail_out, avail_in], or undefined where node's internals differ. */
function gunzipHandle(): { handle: ZlibHandle; state: Uint32Array } | undefined {
  const gz: object = createGunzip();
  const handle: unknown = Reflect.get(gz, '_handle');
  const state: unknown = Reflect.get(gz, '_writeState');
  if (typeof handle !== 'object' || handle === null || !(state instanceof Uint32Array) || state.length < 2) return undefined;
  if (typeof Reflect.get(handle, 'writeSync') !== 'function' || typeof Reflect.get(handle, 'close') !== 'function') return undefined;
  return { handle: handle as ZlibHandle, state };
}

let syncGunzipWorks: boolean | undefined;

/** Whether this node has what the synchronous gunzip needs (the answer cannot change: kept). */
export function canReadBlobsSync(): boolean {
  if (syncGunzipWorks === undefined) {
    const zlib = gunzipHandle();
    zlib?.handle.close();
    syncGunzipWorks = zlib !== undefined;
  }
  return syncGunzipWorks;
}

/** Open a layer blob file; `digest` is the blob's (compressed) digest, `what` names it in errors. */
export function openBlobSync(file: string, digest: Digest, what: string): BlobReaderSync {
  const fd = openSync(file, 'r');
  try {
    return new BlobReader(fd, digest, what);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

class BlobReader implements BlobReaderSync {
  private readonly input = Buffer.allocUnsafe(INPUT_BYTES);
  private inOff = 0;
  private availIn = 0;
  private inputEnded = false;
  private readonly blob: Digester;
  private readonly uncompressed = new Digester();
  private readonly decode: () => Buffer | undefined;
  private closed = false;

  constructor(private readonly fd: number, private readonly digest: Digest, private readonly what: string) {
    this.blob = new Digester(digestAlgorithm(digest));
    this.refill();
    const head = this.input.subarray(0, this.availIn);
    if (head[0] === 0x1f && head[1] === 0x8b) this.decode = this.gunzip();
    else if (head.length >= 4 && head.readUInt32LE(0) === ZSTD_MAGIC) this.decode = this.unzstd();
    else this.decode = () => this.plain();
  }

  next(): Buffer | undefined {
    const chunk = this.decode();
    if (chunk !== undefined) this.uncompressed.update(chunk);
    return chunk;
  }

  finish(): Digest {
    while (this.next() !== undefined) { /* the rest counts for the diff ID (tar padding) */ }
    while (!this.inputEnded) this.refill(); // bytes after the compressed stream count for the blob's digest
    const actual = this.blob.digest();
    if (actual !== this.digest) {
      throw internal('BLOB_CORRUPT', `blob ${this.digest} in the content store is corrupt (hashes to ${actual})`,
        { hint: 'remove the image and pull or load it again' });
    }
    return this.uncompressed.digest();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Read the next input block (only once the previous one is used up). */
  private refill(): void {
    if (this.inputEnded) return;
    const n = readSync(this.fd, this.input, 0, INPUT_BYTES, null);
    this.inOff = 0;
    this.availIn = n;
    if (n === 0) this.inputEnded = true;
    else this.blob.update(this.input.subarray(0, n));
  }

  private plain(): Buffer | undefined {
    if (this.availIn === 0) this.refill();
    if (this.availIn === 0) return undefined;
    const chunk = this.input.subarray(this.inOff, this.inOff + this.availIn);
    this.availIn = 0;
    return chunk;
  }

  private gunzip(): () => Buffer | undefined {
    const zlib = gunzipHandle();
    if (zlib === undefined) throw internal('NO_SYNC_GUNZIP', 'this node version has no synchronous zlib handle');
    const { handle, state } = zlib;
    const out = Buffer.allocUnsafe(OUTPUT_BYTES);
    let failure: string | undefined;
    handle.onerror = (message) => { failure = message; };
    let outFull = false;
    let ended = false;
    return () => {
      while (!ended) {
        if (this.availIn === 0 && !outFull) this.refill();
        const flush = this.inputEnded ? zlibConstants.Z_FINISH : zlibConstants.Z_NO_FLUSH;
        const before = this.availIn;
        handle.writeSync(flush, this.input, this.inOff, this.availIn, out, 0, OUTPUT_BYTES);
        if (failure !== undefined) {
          ended = true;
          throw invalidArgument('BAD_LAYER_COMPRESSION', `${this.what}: gzip data is corrupt: ${failure}`);
        }
        const availOut = state[0] ?? 0;
        this.availIn = state[1] ?? 0;
        this.inOff += before - this.availIn;
        const produced = OUTPUT_BYTES - availOut;
        outFull = availOut === 0;
        if (produced > 0) return out.subarray(0, produced);
        // finished, or stuck before bytes after the gzip stream (zlib ignores such trailing data)
        if (this.inputEnded || (before > 0 && this.availIn === before)) ended = true;
      }
      handle.close();
      return undefined;
    };
  }

  private unzstd(): () => Buffer | undefined {
    checkZstdWindow(this.input.subarray(0, this.availIn), this.what);
    const ready: Buffer[] = [];
    const decoder = new Decompress((data) => {
      if (data.byteLength > 0) ready.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
    let ended = false;
    return () => {
      while (ready.length === 0 && !ended) {
        if (this.availIn === 0) this.refill();
        // fzstd may keep views of its input: it gets a copy, as the input buffer is reused
        const chunk = Buffer.from(this.input.subarray(this.inOff, this.inOff + this.availIn));
        this.availIn = 0;
        ended = this.inputEnded;
        try {
          decoder.push(chunk, ended);
        } catch (cause) {
          throw invalidArgument('BAD_LAYER_COMPRESSION', `${this.what}: zstd data is corrupt: ${(cause as Error).message}`, { cause });
        }
      }
      return ready.shift();
    };
  }
}

/**
 * The first frame's window size from its header (RFC 8878 3.1.1.1): refused when larger
 * than MAX_ZSTD_WINDOW, so a hostile layer cannot make the decoder allocate gigabytes.
 */
export function checkZstdWindow(head: Uint8Array, what: string): void {
  if (head.byteLength < 6) return; // too short to judge; the decoder reports truncation
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (view.readUInt32LE(0) !== ZSTD_MAGIC) return; // skippable frames and garbage: the decoder decides
  const descriptor = view[4] ?? 0;
  const singleSegment = (descriptor & 0x20) !== 0;
  let window: number;
  if (!singleSegment) {
    const byte = view[5] ?? 0;
    const exponent = byte >> 3;
    const base = 2 ** (10 + exponent);
    window = base + (base / 8) * (byte & 7);
  } else {
    window = contentSize(view, descriptor) ?? 0;
  }
  if (window > MAX_ZSTD_WINDOW) {
    throw invalidArgument('BAD_LAYER_COMPRESSION', `${what}: zstd window of ${window} bytes is larger than the limit of ${MAX_ZSTD_WINDOW}`);
  }
}

/** Frame_Content_Size of a single-segment frame, when the header holds it whole. */
function contentSize(view: Buffer, descriptor: number): number | undefined {
  const sizeFlag = descriptor >> 6;
  const dictBytes = [0, 1, 2, 4][descriptor & 3] ?? 0;
  const at = 5 + dictBytes;
  const bytes = [1, 2, 4, 8][sizeFlag] ?? 1;
  if (view.byteLength < at + bytes) return undefined;
  if (bytes === 1) return view.readUInt8(at);
  if (bytes === 2) return view.readUInt16LE(at) + 256;
  if (bytes === 4) return view.readUInt32LE(at);
  return Number(view.readBigUInt64LE(at));
}
