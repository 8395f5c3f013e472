// Snapshots: image layers unpacked once each (keyed by chain ID) and writable roots for
// containers and build steps on top of them. Two mechanisms implement it: overlayfs and a
// copying fallback for file systems where overlay cannot be used.
import { createHash } from 'node:crypto';
import { invalidArgument } from '../../errors/berth-error.js';
import { Digester, type Digest } from '../../oci/digest.js';
import type { IdMaps } from '../../sys/idmap.js';

export interface LayerInfo {
  chainId: Digest;
  parent?: Digest;
  diffId: Digest;
  /** bytes of file content in this layer */
  size: number;
  createdAt: number;
}

export interface ActiveSnapshot {
  key: string;
  parent?: Digest;
  /** the root file system to use (mounted for overlay) */
  root: string;
  createdAt: number;
  /** a user-namespaced container's ids: its files are on disk with the host ids, its diff shifts them back */
  idmap?: IdMaps;
}

/** Unpacked, read-only image layers. */
export interface LayerStore {
  hasLayer(chainId: Digest): Promise<boolean>;
  /**
   * Unpack an uncompressed layer tar on top of `parent`. The stream must hash to `diffId`;
   * otherwise nothing is kept. A no-op (stream not read) when the chain ID exists already.
   */
  unpackLayer(chainId: Digest, parent: Digest | undefined, diffId: Digest, tar: AsyncIterable<Uint8Array> | LayerBlobFile,
    options?: UnpackLayerOptions): Promise<LayerInfo>;
  listLayers(): Promise<LayerInfo[]>;
  removeLayer(chainId: Digest): Promise<void>;
  /**
   * Grows with every layer removal since the store was opened (layers are immutable and only
   * this store removes them): whatever was found unpacked while it stayed the same still is.
   */
  readonly layerRemovals: number;
}

/**
 * A layer as its compressed blob's file (gzip, zstd or plain tar, told by the magic bytes):
 * the store reads, re-verifies and decompresses it itself, on a worker thread.
 */
export interface LayerBlobFile {
  blobFile: string;
  blobDigest: Digest;
}

export function isLayerBlobFile(tar: AsyncIterable<Uint8Array> | LayerBlobFile): tar is LayerBlobFile {
  return typeof (tar as Partial<LayerBlobFile>).blobFile === 'string';
}

export interface UnpackLayerOptions {
  /**
   * The parent is still being unpacked; this settles once it is in place (rejects if it
   * failed). Where a layer holds only its own changes (overlay) the child is unpacked and
   * verified meanwhile and put in place only after its parent, so a failed parent never
   * leaves a committed child; where a layer starts as a copy of its parent, the unpack waits.
   */
  parentCommitted?: Promise<unknown>;
}

export interface PrepareOptions {
  idmap?: IdMaps;
  /**
   * false: the snapshot's record is renamed into place without fsync (a root that is removed
   * after a crash anyway, as an --rm container's); a record a power loss tore is swept
   */
  durable?: boolean;
}

/** Writable roots on top of a layer chain. */
export interface RootfsStore {
  /**
   * Create (or reuse) the writable root `key` on top of `parent` and mount it. With `idmap`
   * (a container in a user namespace) the layers show up owned by the mapped ids and the
   * writable part belongs to the mapped root.
   */
  prepare(key: string, parent: Digest | undefined, options?: PrepareOptions): Promise<ActiveSnapshot>;
  /** Unmount and delete a writable root; a missing key is not an error. */
  remove(key: string): Promise<void>;
  /** Unmount without deleting (the root is mounted again by prepare). */
  unmount(key: string): Promise<void>;
  listActive(): Promise<ActiveSnapshot[]>;
  /** The changes made in `key` as an uncompressed layer tar. */
  diff(key: string): AsyncGenerator<Buffer>;
}

export interface Snapshotter extends LayerStore, RootfsStore {
  readonly driver: 'overlay' | 'native';
  /** How roots of containers in a user namespace share the layers: idmapped mounts, or chowned copies. */
  probeIdmap?(): Promise<'idmapped-mounts' | 'chowned-copy'>;
  /** After a crash: unmount our leftover mounts and delete half-unpacked layers. */
  sweep(): Promise<void>;
  /** berthd stops: mounts kept for reuse (idmapped layers) come off; containers' roots are their owners' to unmount. */
  close?(): Promise<void>;
  /** mounts kept for reuse (idmapped layer clones): `system check` must not take them for leaks */
  keptMounts?(): ReadonlySet<string>;
}

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}` as Digest);
  }
  return out;
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkSnapshotKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw invalidArgument('INVALID_SNAPSHOT_KEY', `invalid snapshot key "${key.slice(0, 140)}"`);
  return key;
}

/** Wrap a stream so that its digest is known once it has been read to the end. */
export function hashingStream(source: AsyncIterable<Uint8Array>): { stream: AsyncGenerator<Uint8Array>; digester: Digester } {
  const digester = new Digester();
  async function* stream(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      digester.update(chunk);
      yield chunk;
    }
  }
  return { stream: stream(), digester };
}

/** Read a stream to its end (tar padding after the end-of-archive blocks counts for the diff ID). */
export async function drain(stream: AsyncIterator<Uint8Array>): Promise<void> {
  for (;;) {
    const next = await stream.next();
    if (next.done === true) return;
  }
}
