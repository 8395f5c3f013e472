// What `system df` and `system check` read, taken from the services berthd built: the
// composition root calls these once and hands the result to the accountant and the checker.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { listNetnsFiles } from '../../network/kernel.js';
import { FIREWALL_FAMILY } from '../../network/firewall.js';
import { parseDigest } from '../../oci/digest.js';
import type { CgroupManager } from '../../runtime/cgroups/manager.js';
import { findGarbage } from '../../store/metadata/gc.js';
import { chainIds } from '../../store/snapshots/snapshotter.js';
import type { BuildService } from '../build/build-service.js';
import type { RuntimeSet } from '../containers/ports.js';
import type { ContainerService } from '../containers/service.js';
import type { ImageService } from '../images/image-service.js';
import type { NetworksService } from '../networks/service.js';
import type { VolumesService } from '../volumes/service.js';
import type { CheckProbe } from '../system/check.js';
import { hostProbes } from '../system/check-host.js';
import { networkProbes } from '../system/check-network.js';
import { storeProbes } from '../system/check-store.js';
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

export interface CheckServices extends SystemServices {
  execRoot: string;
  cgroupParent: string;
  networks: NetworksService;
  runtimes: RuntimeSet;
  cgroups: CgroupManager | undefined;
  /** builds in progress (their snapshots, cgroups and exec-root dirs are in use) */
  buildsRunning(): number;
}

/** Every probe of `system check`, in repair order: kernel state first, then files, then the network. */
export function checkProbes(s: CheckServices): CheckProbe[] {
  const { containers, images, volumes, networks } = s;
  const isLive = (id: string): boolean => {
    const state = containers.store.get(id)?.State;
    return state !== undefined && (state.Running || state.Restarting || state.Paused);
  };
  const isContainer = (id: string): boolean => containers.store.get(id) !== undefined;
  const rootfs = images.rootfs();
  return [
    ...hostProbes({
      dataRoot: s.dataRoot, execRoot: s.execRoot, isLive, isContainer, holdsRootMount: (id) => containers.holdsRootMount(id), buildsRunning: s.buildsRunning,
      volumeMountpoints: () => new Set(volumes.store.all().map((v) => volumes.store.mountpoint(v.Name))),
      keptMounts: () => images.snapshotter.keptMounts?.() ?? new Set<string>(),
      cgroupParentDirs: async () => (s.cgroups ? Object.values(await s.cgroups.directoriesOf(s.cgroupParent)) : []),
      runtimes: () => s.runtimes.names().map((name) => ({
        name,
        list: async () => (await s.runtimes.get(name).list()).map((state) => state.id),
        remove: async (id) => { await s.runtimes.get(name).delete(id, { force: true }); },
      })),
    }),
    ...storeProbes({
      garbage: () => findGarbage(images.metadata, images.content, images.snapshotter),
      removeBlob: async (digest) => { await images.content.delete(parseDigest(digest)); },
      removeLayer: async (chainId) => { await images.snapshotter.removeLayer(parseDigest(chainId)); },
      snapshotKeys: () => rootfs.list(),
      removeSnapshot: (key) => rootfs.remove(key),
      ownsSnapshot: (key) => isContainer(key) || containers.store.setAsideIds.includes(key),
      buildsRunning: s.buildsRunning,
      recordDirs: async () => [containers.store.root, path.join(s.dataRoot, 'network', 'networks'), path.join(s.dataRoot, 'network', 'sandboxes'),
        ...(await readdir(volumes.store.root).catch(() => [] as string[])).map((name) => volumes.store.dir(name))],
    }),
    ...networkProbes({
      vethPrefix: networks.names.vethPrefix, bridgePrefix: networks.names.bridgePrefix, family: FIREWALL_FAMILY, table: networks.names.table,
      listLinks: (prefix) => networks.kernel.listLinks(prefix),
      deleteLink: (name) => networks.kernel.deleteLink(name),
      // a stopped container's veths are deleted in the background (networks.draining) for a few ms more
      expectedVeths: () => new Set([...networks.sandboxes.values(), ...networks.draining.values()].flatMap((sb) => sb.endpoints.map((e) => e.hostIfName))),
      expectedBridges: () => new Set([...networks.networks.values()].flatMap((n) => (n.bridge ? [n.bridge] : []))),
      netnsFiles: () => listNetnsFiles(networks.netnsDir),
      expectedNetns: () => new Set([...networks.sandboxes.values()].flatMap((sb) => (sb.netnsPath && sb.mode !== 'container' ? [sb.netnsPath] : []))),
      destroyNetns: (file) => networks.kernel.destroyNetns(file),
      expectedFirewall: () => networks.expectedFirewall(),
      reapplyFirewall: () => networks.reapplyFirewall(),
    }),
  ];
}
