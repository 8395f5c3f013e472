// Garbage collection: mark everything reachable from image records (manifest, index,
// config, layers, and the chain IDs of their layers), from leases and from writable
// snapshots (their parent chains); sweep the rest of the content store and layer store.
import type { Digest } from '../../oci/digest.js';
import { MAX_MANIFEST_BYTES, isIndexMediaType, isManifestMediaType, parseIndex, parseManifest, parseImageConfig, MAX_CONFIG_BYTES } from '../../oci/image.js';
import type { ContentStore } from '../content/content-store.js';
import { chainIds, type Snapshotter } from '../snapshots/snapshotter.js';
import type { ImageMetadataStore } from './image-metadata.js';

export interface GcResult {
  blobsRemoved: Digest[];
  layersRemoved: Digest[];
  bytesReclaimed: number;
}

/** What a collection would remove: blobs and unpacked layers nothing reachable references. */
export interface Garbage {
  blobs: Array<{ digest: Digest; size: number }>;
  layers: Array<{ chainId: Digest; size: number }>;
}

export async function collectGarbage(metadata: ImageMetadataStore, content: ContentStore, snapshotter: Snapshotter): Promise<GcResult> {
  const garbage = await findGarbage(metadata, content, snapshotter);
  const result: GcResult = { blobsRemoved: [], layersRemoved: [], bytesReclaimed: 0 };
  for (const { digest, size } of garbage.blobs) {
    await content.delete(digest).catch(() => undefined);
    result.blobsRemoved.push(digest);
    result.bytesReclaimed += size;
  }
  for (const layer of garbage.layers) {
    await snapshotter.removeLayer(layer.chainId);
    result.layersRemoved.push(layer.chainId);
    result.bytesReclaimed += layer.size;
  }
  return result;
}

/** The mark phase alone (also `system check`): nothing is removed. */
export async function findGarbage(metadata: ImageMetadataStore, content: ContentStore, snapshotter: Snapshotter): Promise<Garbage> {
  const blobs = new Set<Digest>();
  const layers = new Set<Digest>();
  const markManifest = async (digest: Digest): Promise<void> => {
    blobs.add(digest);
    const manifest = parseManifest(await content.readBlob(digest, MAX_MANIFEST_BYTES), `manifest ${digest}`);
    blobs.add(manifest.config.digest);
    for (const layer of manifest.layers) blobs.add(layer.digest);
    const config = await content.readBlob(manifest.config.digest, MAX_CONFIG_BYTES).catch(() => undefined);
    if (config !== undefined) for (const c of chainIds(parseImageConfig(config).rootfs.diff_ids)) layers.add(c);
  };
  for (const image of await metadata.listImages()) {
    blobs.add(image.id);
    // a record whose manifest cannot be read stops GC: guessing could delete live layers
    await markManifest(image.manifest.digest);
    if (image.index !== undefined) {
      blobs.add(image.index.digest);
      const index = await content.readBlob(image.index.digest, MAX_MANIFEST_BYTES).then((b) => parseIndex(b), () => undefined);
      for (const d of index?.manifests ?? []) {
        if (isManifestMediaType(d.mediaType) && await content.info(d.digest).then(() => true, () => false)) await markManifest(d.digest).catch(() => undefined);
        if (isIndexMediaType(d.mediaType)) blobs.add(d.digest);
      }
    }
  }
  for (const lease of await metadata.listLeases()) {
    for (const b of lease.blobs) blobs.add(b);
    for (const l of lease.layers) layers.add(l);
  }
  const layerParents = new Map((await snapshotter.listLayers()).map((l) => [l.chainId, l.parent]));
  for (const active of await snapshotter.listActive()) {
    for (let c = active.parent; c !== undefined; c = layerParents.get(c)) layers.add(c);
  }
  const garbage: Garbage = { blobs: [], layers: [] };
  await content.walk((info) => { if (!blobs.has(info.digest)) garbage.blobs.push({ digest: info.digest, size: info.size }); });
  for (const layer of await snapshotter.listLayers()) {
    if (!layers.has(layer.chainId)) garbage.layers.push({ chainId: layer.chainId, size: layer.size });
  }
  return garbage;
}
