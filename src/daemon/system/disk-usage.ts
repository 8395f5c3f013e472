// GET /system/df with the verbose fields, accounting for every byte under the data root:
// the image store (LayersSize), each container's writable layer (SizeRw) and its record and
// logs (SizeMetadata, a berth field), volumes (UsageData), build cache mounts, and the rest
// (network records, build cache records, set-aside records, snapshots no container owns) in
// BerthOther. The parts are disjoint walks, so they add up to what `du -sbx` says.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { treeSize } from './tree-size.js';

export interface DfContainer {
  Id: string;
  /** the rest of docker's container summary (Names, Image, State, ...) */
  summary: Record<string, unknown>;
  /** image id (sha256:...) */
  imageId: string;
}

export interface DfImage {
  Id: string;
  Size: number;
  [field: string]: unknown;
}

export interface DfBuildCacheRecord {
  key: string;
  parent: string;
  instruction: string;
  size: number;
  created: number;
  lastUsed: number;
}

/** What df reads, wired by the composition root. */
export interface DiskUsageSources {
  dataRoot: string;
  /** <data>/image: content, layers, metadata (the writable snapshots below it are counted per container) */
  imageRoot: string;
  /** <image>/snapshots/<driver>/active: one dir per writable snapshot, named by key */
  activeRoot: string;
  /** the sub-directory of a snapshot that is a mount of the others (overlay's merged), not bytes of its own */
  mountedSubdir: string | undefined;
  /** <data>/containers: records, logs, hosts files */
  containersRoot: string;
  /** <data>/volumes */
  volumesRoot: string;
  /** <data>/build/cache-mounts: RUN --mount=type=cache directories */
  cacheMountsRoot: string;
  containers(): DfContainer[];
  images(): Promise<DfImage[]>;
  /** chain IDs of an image's layers, bottom first */
  imageLayers(imageId: string): Promise<string[]>;
  /** chain ID -> bytes of that unpacked layer */
  layerSizes(): Promise<Map<string, number>>;
  /** docker's volume objects with UsageData */
  volumes(): Promise<Array<{ Name: string; Mountpoint: string; UsageData?: { Size: number; RefCount: number } }>>;
  buildCache(): DfBuildCacheRecord[];
}

export type DfType = 'container' | 'image' | 'volume' | 'build-cache';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function listDir(dir: string): Promise<string[]> {
  return await readdir(dir).catch(() => [] as string[]);
}

export class DiskUsage {
  constructor(private readonly sources: DiskUsageSources) {}

  async report(types: readonly DfType[]): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = {};
    const containers = this.sources.containers();
    const images = types.includes('image') || types.includes('container') ? await this.imagesWithSharing(containers) : [];
    if (types.includes('image')) {
      result['Images'] = images;
      result['LayersSize'] = await treeSize(this.sources.imageRoot, { skip: new Set([this.sources.activeRoot]) });
    }
    if (types.includes('container')) result['Containers'] = await this.containerSizes(containers, images);
    if (types.includes('volume')) result['Volumes'] = await this.sources.volumes();
    if (types.includes('build-cache')) result['BuildCache'] = await this.buildCache();
    if (types.length === 4) result['BerthOther'] = await this.other(containers);
    return result;
  }

  /** Each image with how many containers use it and the bytes of its layers that others share. */
  private async imagesWithSharing(containers: readonly DfContainer[]): Promise<DfImage[]> {
    const images = await this.sources.images();
    const sizes = await this.sources.layerSizes();
    const layersOf = new Map<string, string[]>();
    const users = new Map<string, number>();
    for (const image of images) {
      const chains = await this.sources.imageLayers(image.Id).catch(() => [] as string[]);
      layersOf.set(image.Id, chains);
      for (const chain of new Set(chains)) users.set(chain, (users.get(chain) ?? 0) + 1);
    }
    const containerCount = new Map<string, number>();
    for (const c of containers) containerCount.set(c.imageId, (containerCount.get(c.imageId) ?? 0) + 1);
    return images.map((image) => {
      const shared = [...new Set(layersOf.get(image.Id) ?? [])].filter((c) => (users.get(c) ?? 0) > 1)
        .reduce((sum, c) => sum + (sizes.get(c) ?? 0), 0);
      return { ...image, SharedSize: shared, Containers: containerCount.get(image.Id) ?? 0 };
    });
  }

  /** SizeRw: the writable snapshot; SizeRootFs: that plus the image; SizeMetadata: record and logs. */
  private async containerSizes(containers: readonly DfContainer[], images: readonly DfImage[]): Promise<Array<Record<string, unknown>>> {
    const imageSize = new Map(images.map((i) => [i.Id, i.Size]));
    const out: Array<Record<string, unknown>> = [];
    for (const c of containers) {
      const snapshot = path.join(this.sources.activeRoot, c.Id);
      const mounted = this.sources.mountedSubdir;
      const sizeRw = await treeSize(snapshot, { skip: new Set(mounted ? [path.join(snapshot, mounted)] : []) });
      const metadata = await treeSize(path.join(this.sources.containersRoot, c.Id));
      out.push({ Id: c.Id, ...c.summary, SizeRw: sizeRw, SizeRootFs: sizeRw + (imageSize.get(c.imageId) ?? 0), SizeMetadata: metadata });
    }
    return out;
  }

  /**
   * Cached build steps are intermediate images: their bytes are in the image store (Shared).
   * Cache mounts hold bytes of their own.
   */
  private async buildCache(): Promise<Array<Record<string, unknown>>> {
    const entries: Array<Record<string, unknown>> = this.sources.buildCache().map((e) => ({
      ID: e.key.slice(0, 25), Parent: e.parent, Type: 'regular', Description: e.instruction, InUse: false, Shared: true,
      Size: e.size, CreatedAt: iso(e.created), LastUsedAt: iso(e.lastUsed), UsageCount: 1,
    }));
    for (const name of await listDir(this.sources.cacheMountsRoot)) {
      const size = await treeSize(path.join(this.sources.cacheMountsRoot, name));
      entries.push({ ID: name.slice(0, 25), Parent: '', Type: 'exec.cachemount', Description: `cache mount ${name}`, InUse: false,
        Shared: false, Size: size, CreatedAt: '', LastUsedAt: null, UsageCount: 0 });
    }
    return entries;
  }

  /** Everything under the data root that no other part counts, by place. */
  private async other(containers: readonly DfContainer[]): Promise<Array<{ Path: string; Size: number }>> {
    const { dataRoot, imageRoot, containersRoot, volumesRoot, activeRoot, cacheMountsRoot } = this.sources;
    const owned = new Set(containers.map((c) => c.Id));
    const volumeData = (await this.sources.volumes()).map((v) => v.Mountpoint);
    const parts: Array<{ Path: string; Size: number }> = [
      // snapshots no container owns: running builds, or leaks `system check` reports
      { Path: activeRoot, Size: await treeSize(activeRoot, { skip: new Set([...owned].map((id) => path.join(activeRoot, id))) }) },
      // set-aside records and the directory itself
      { Path: containersRoot, Size: await treeSize(containersRoot, { skip: new Set([...owned].map((id) => path.join(containersRoot, id))) }) },
      // volume.json records (and volumes whose record was set aside)
      { Path: volumesRoot, Size: await treeSize(volumesRoot, { skip: new Set(volumeData) }) },
    ];
    const counted = new Set([imageRoot, containersRoot, volumesRoot, cacheMountsRoot].map((p) => path.resolve(p)));
    for (const name of await listDir(dataRoot)) {
      const place = path.join(dataRoot, name);
      if (counted.has(path.resolve(place))) continue;
      parts.push({ Path: place, Size: await treeSize(place, { skip: new Set([cacheMountsRoot]) }) });
    }
    return parts.filter((p) => p.Size > 0);
  }
}
