// What `system df` and `system check` read, taken from the services berthd built: the
// composition root calls these once and hands the result to the accountant and the checker.
import path from 'node:path';
import { parseDigest } from '../../oci/digest.js';
import { chainIds } from '../../store/snapshots/snapshotter.js';
import type { BuildService } from '../build/build-service.js';
import type { ContainerService } from '../containers/service.js';
import type { ImageService } from '../images/image-service.js';
import type { VolumesService } from '../volumes/service.js';
import type { DiskUsageSources } from '../system/disk-usage.js';

export interface SystemServices {
  dataRoot: string;
  containers: ContainerService;
  images: ImageService;
  volumes: VolumesService;
  builder: BuildService;
}

/** <data>/image/snapshots/<driver>/active, as ImageService lays it out */
export function activeSnapshotRoot(dataRoot: string, images: ImageService): string {
  return path.join(dataRoot, 'image', 'snapshots', images.snapshotter.driver, 'active');
}

export function diskUsageSources({ dataRoot, containers, images, volumes, builder }: SystemServices): DiskUsageSources {
  return {
    dataRoot, imageRoot: path.join(dataRoot, 'image'),
    activeRoot: activeSnapshotRoot(dataRoot, images),
    mountedSubdir: images.snapshotter.driver === 'overlay' ? 'merged' : undefined,
    containersRoot: containers.store.root, volumesRoot: path.join(dataRoot, 'volumes'),
    cacheMountsRoot: path.join(dataRoot, 'build', 'cache-mounts'),
    containers: () => containers.store.all().map((r) => ({
      Id: r.Id, imageId: r.Image,
      summary: {
        Names: [r.Name], Image: r.Config.Image ?? r.Image, ImageID: r.Image, Command: [r.Path, ...r.Args].join(' '),
        Created: Math.floor(Date.parse(r.Created) / 1000), State: r.State.Status, Status: r.State.Status,
        Labels: r.Config.Labels ?? {}, Mounts: [], HostConfig: { NetworkMode: r.HostConfig.NetworkMode ?? 'bridge' }, Ports: [],
        NetworkSettings: { Networks: {} },
      },
    })),
    images: async () => (await images.list({ all: false })).map((i) => ({ ...i })),
    imageLayers: async (id) => chainIds((await images.readConfig(parseDigest(id))).rootfs.diff_ids),
    layerSizes: async () => new Map((await images.snapshotter.listLayers()).map((l) => [l.chainId, l.size])),
    volumes: () => volumes.diskUsage(),
    buildCache: () => builder.cache.list(),
  };
}
