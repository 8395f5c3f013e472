// Layer decompression: gzip through node's zlib (its work runs on the libuv thread pool)
// and zstd through fzstd, a pure-JS streaming decoder (Node 20's zlib has no zstd). The
// zstd binary was measured too: on a 50 MB layer it was no faster once fzstd's code was
// warm (about 0.45 s each), and a library needs no host program or extra process.
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import { BerthError, invalidArgument } from '../../errors/berth-error.js';
import { checkZstdWindow, MAX_ZSTD_WINDOW } from '../../store/archive/blob-reader-sync.js';

export { checkZstdWindow, MAX_ZSTD_WINDOW };

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
