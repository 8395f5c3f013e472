// Layers between the content store (compressed blobs) and the snapshotter (unpacked
// directories): decompression sniffed from the magic bytes (gzip, zstd or plain), unpacking
// a manifest's chain, and turning a tar stream into a stored gzip layer with its diff ID.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createGzip, constants as zlib } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../../errors/berth-error.js';
import { Digester, type Digest } from '../../oci/digest.js';
import { MediaType, type Descriptor } from '../../oci/image.js';
import type { ContentStore } from '../../store/content/content-store.js';
import { writeBlobFromStream } from '../../store/content/file-content-store.js';
import { chainIds, type LayerBlobFile, type Snapshotter } from '../../store/snapshots/snapshotter.js';
import { canReadBlobsSync } from '../../store/archive/blob-reader-sync.js';
import { gunzip, unzstd } from './compression.js';

/** Uncompressed bytes of a stream that may be gzip or zstd (sniffed by magic bytes) or plain. */
export async function* decompressSniffed(source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) return;
  const head = asBuffer(first.value);
  const rest = (async function* () {
    yield head;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield asBuffer(next.value);
  })();
  if (head[0] === 0x1f && head[1] === 0x8b) {
    yield* gunzip(rest, what);
  } else if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    yield* unzstd(rest, what);
  } else {
    yield* rest;
  }
}

/** A Buffer view of the bytes (Buffer.from(Uint8Array) would copy every chunk of the blob). */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The uncompressed tar of a layer blob from the content store. */
export async function* openLayer(content: ContentStore, layer: Descriptor): AsyncGenerator<Buffer> {
  // the magic bytes decide, as containerd does: some registries label blobs loosely
  const stream = await content.open(layer.digest);
  yield* decompressSniffed(stream, `layer ${layer.digest}`);
}

/**
 * A layer for the snapshotter: its blob's file where the content store has one (the store
 * unpacks it on a worker thread, re-verifying the blob), else the decompressed stream.
 */
async function layerSource(content: ContentStore, layer: Descriptor): Promise<AsyncIterable<Uint8Array> | LayerBlobFile> {
  if (content.blobPath === undefined || !canReadBlobsSync()) return openLayer(content, layer);
  await content.info(layer.digest); // a missing blob fails here as it does when opened
  return { blobFile: content.blobPath(layer.digest), blobDigest: layer.digest };
}

/**
 * Layers unpacked at once. Overlay layer directories do not depend on each other, so while one
 * layer waits for zlib another creates its files (and their fsyncs overlap); each one still
 * holds a gunzip read-ahead and a few buffers, hence a bound.
 */
const LAYERS_AT_ONCE = 3;

/**
 * Unpack every layer of an image (skipping those present); returns the top chain ID. Layers
 * are unpacked concurrently and put in place in chain order: a child only after its parent,
 * so a layer that fails (bad diff ID, hostile entry) leaves no layer above it behind. The
 * error of the lowest failing layer is thrown.
 */
export async function unpackLayers(content: ContentStore, snapshotter: Snapshotter, layers: readonly Descriptor[],
  diffIds: readonly Digest[], onLayer?: (layer: Descriptor, state: 'exists' | 'unpacked') => void): Promise<Digest | undefined> {
  if (layers.length !== diffIds.length) {
    throw invalidArgument('LAYER_COUNT_MISMATCH', `image has ${layers.length} layers but ${diffIds.length} diff_ids`);
  }
  const chain = chainIds(diffIds);
  const committed: Array<Promise<unknown>> = [];
  const running = new Set<Promise<unknown>>();
  let failed = false;
  for (let i = 0; i < layers.length && !failed; i++) {
    const chainId = chain[i] as Digest;
    const layer = layers[i] as Descriptor;
    if (await snapshotter.hasLayer(chainId)) {
      onLayer?.(layer, 'exists');
      committed.push(Promise.resolve());
      continue;
    }
    while (running.size >= LAYERS_AT_ONCE) await Promise.race(running);
    const parentCommitted = committed[i - 1];
    const unpack = layerSource(content, layer).then((source) => snapshotter.unpackLayer(chainId, chain[i - 1], diffIds[i] as Digest, source,
      parentCommitted !== undefined ? { parentCommitted } : {}));
    committed.push(unpack);
    // settled (never rejects): frees the slot; the outcome is read from `committed` below
    const slot: Promise<unknown> = unpack.then(() => { onLayer?.(layer, 'unpacked'); }, () => { failed = true; })
      .finally(() => running.delete(slot));
    running.add(slot);
  }
  const outcomes = await Promise.allSettled(committed);
  const firstFailure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (firstFailure !== undefined) throw firstFailure.reason;
  return chain[chain.length - 1];
}

export interface StoredLayer {
  /** the gzip blob in the content store */
  descriptor: Descriptor;
  /** digest of the uncompressed tar */
  diffId: Digest;
  uncompressedSize: number;
}

/**
 * Store an uncompressed tar stream as a gzip layer: one pass computes the diff ID and the
 * compressed digest while writing a temp file, which is then ingested (and re-verified).
 */
export async function storeLayerTar(content: ContentStore, tmpDir: string, tar: AsyncIterable<Uint8Array>,
  options: { compress?: boolean } = {}): Promise<StoredLayer> {
  await mkdir(tmpDir, { recursive: true });
  const temp = path.join(tmpDir, `layer-${randomBytes(6).toString('hex')}`);
  try {
    const diff = new Digester();
    const blob = new Digester();
    const compress = options.compress !== false;
    const tap = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        diff.update(chunk);
        yield chunk;
      }
    };
    const count = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        blob.update(chunk);
        yield chunk;
      }
    };
    if (compress) {
      await pipeline(Readable.from(tap(tar)), createGzip({ level: zlib.Z_BEST_SPEED }), count, createWriteStream(temp));
    } else {
      await pipeline(Readable.from(tap(tar)), count, createWriteStream(temp));
    }
    const descriptor: Descriptor = {
      mediaType: compress ? MediaType.ociLayerGzip : MediaType.ociLayer,
      digest: blob.digest(),
      size: blob.size,
    };
    await writeBlobFromStream(content, `layer-${descriptor.digest}`, createReadStream(temp), descriptor);
    return { descriptor, diffId: diff.digest(), uncompressedSize: diff.size };
  } finally {
    await rm(temp, { force: true });
  }
}
