// Layer decompression: gzip through node's zlib (its work runs on the libuv thread pool)
// and zstd through fzstd, a pure-JS streaming decoder (Node 20's zlib has no zstd). The
// zstd binary was measured too: on a 50 MB layer it was no faster once fzstd's code was
// warm (about 0.45 s each), and a library needs no host program or extra process.
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import { BerthError, invalidArgument } from '../../errors/berth-error.js';

/** zstd frames declaring a window above this are refused (the decoder allocates the window). */
export const MAX_ZSTD_WINDOW = 128 << 20;

const ZSTD_MAGIC = 0xfd2fb528;
/** decompressed bytes zlib may produce ahead of the reader, so it inflates while the reader writes files */
const READ_AHEAD_BYTES = 4 << 20;

export async function* gunzip(source: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  // node's typings omit it, but zlib passes its options on to the Transform it is
  const options: ZlibOptions & { readableHighWaterMark: number } = { chunkSize: 256 * 1024, readableHighWaterMark: READ_AHEAD_BYTES };
  const gz = createGunzip(options);
  const input = Readable.from(source);
  input.on('error', (err) => gz.destroy(err));
  input.pipe(gz);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (cause) {
    if (cause instanceof BerthError) throw cause;
    throw invalidArgument('BAD_LAYER_COMPRESSION', `${what}: gzip data is corrupt: ${(cause as Error).message}`, { cause });
  }
}

export async function* unzstd(source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  const decoder = new Decompress((data) => {
    if (data.byteLength > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  let first = true;
  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      decoder.push(chunk, final);
    } catch (cause) {
      throw invalidArgument('BAD_LAYER_COMPRESSION', `${what}: zstd data is corrupt: ${(cause as Error).message}`, { cause });
    }
  };
  for await (const chunk of source) {
    if (first) {
      checkZstdWindow(chunk, what);
      first = false;
    }
    push(chunk, false);
    if (out.length > 0) {
      const ready = out;
      out = [];
      yield* ready;
    }
  }
  push(new Uint8Array(0), true);
  yield* out;
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
