// The ONE composition root: every service of berthd built and wired here, nothing else
// constructs services. startDaemon() returns a handle whose stop() shuts down in order.
import { access, mkdir, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isBerthError } from '../errors/berth-error.js';
import { defaultSeccompProfile } from '../oci/seccomp-default.js';
import { sweepCgroups, type CgroupManager } from '../runtime/cgroups/manager.js';
import { activateBlkioAccounting } from '../runtime/cgroups/blkio-accounting.js';
import { createRuntime } from '../runtime/factory.js';
import type { Runtime } from '../runtime/runtime.js';
import { ContainerApi } from '../daemon/containers/api.js';
import { InProcessMonitor } from '../daemon/containers/monitor.js';
import { parseLogOptions } from '../daemon/containers/logs/json-file.js';
import type { CgroupAccess, RuntimeSet } from '../daemon/containers/ports.js';
import { startsWithDaemon } from '../daemon/containers/restart-policy.js';
import { convertSeccompProfile } from '../daemon/containers/seccomp-profile.js';
import { ContainerService } from '../daemon/containers/service.js';
import { connectContainer, disconnectContainer, type AttachableContainers } from '../daemon/containers/network-attach.js';
import type { ContainerRecord } from '../daemon/containers/record.js';
import { ImagesApi } from '../daemon/engine/images-api.js';
import { SystemApi } from '../daemon/engine/system-api.js';
import { checkProbes, diskUsageSources } from '../daemon/engine/system-sources.js';
import { SystemChecker } from '../daemon/system/check.js';
import { DiskUsage } from '../daemon/system/disk-usage.js';
import { systemCheckRoutes } from '../server/routes/system/check-routes.js';
import { EventBus } from '../daemon/events/event-bus.js';
import { ImageService } from '../daemon/images/image-service.js';
import { NetworksService } from '../daemon/networks/service.js';
import { VolumesService } from '../daemon/volumes/service.js';
import { UsernsService } from '../daemon/userns/service.js';
import { buildRequestFromQuery, errorMessage, toJsonMessages } from '../daemon/build/api.js';
import { BuildService, buildImage } from '../daemon/build/build-service.js';
import { sandboxBuildNetwork } from '../daemon/build/run-backend.js';
import { formatPhase } from '../util/phase-timer.js';
import { API_VERSION_NEWEST, API_VERSION_OLDEST } from '../server/api-version.js';
import { listenApi, prepareListen, type ApiListener } from '../server/listener.js';
import { Router } from '../server/router.js';
import { buildRoutes } from '../server/routes/build/routes.js';
import { containerRoutes } from '../server/routes/containers/routes.js';
import { imageRoutes } from '../server/routes/images/routes.js';
import { networkRoutes } from '../server/routes/networks/routes.js';
import { systemRoutes } from '../server/routes/system/routes.js';
import { volumeRoutes } from '../server/routes/volumes/routes.js';
import { invalidArgument } from '../errors/berth-error.js';
import type { ResolvedConfig } from './config.js';
import type { Logger } from './logger.js';
import type { DaemonPlatform } from './rootless/platform.js';
import { probeResourceSupport } from './cgroup-support.js';

export interface RunningDaemon {
  listener: ApiListener;
  stop(): Promise<void>;
}

async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) if (await access(p).then(() => true, () => false)) return p;
  return undefined;
}

function runtimeSet(config: ResolvedConfig, cgroups: CgroupManager): RuntimeSet {
  const cache = new Map<string, Runtime>();
  return {
    defaultName: config.defaultRuntime,
    names: () => Object.keys(config.runtimes),
    get(name) {
      const chosen = name || config.defaultRuntime;
      const binary = config.runtimes[chosen];
      if (binary === undefined) throw invalidArgument('UNKNOWN_RUNTIME', `unknown or invalid runtime name: ${chosen}`);
      let runtime = cache.get(chosen);
      if (!runtime) {
        // each daemon keeps its runtime state under its own exec-root
        runtime = createRuntime(binary, { root: path.join(config.execRoot, 'runtime', chosen), cgroups, sealedHelper: true });
        cache.set(chosen, runtime);
      }
      return runtime;
    },
  };
}

function cgroupAccess(manager: CgroupManager): CgroupAccess {
  return {
    stats: async (cgroupsPath) => await (await manager.open(cgroupsPath)).stats(),
    update: async (cgroupsPath, resources) => { await (await manager.open(cgroupsPath)).applyResources(resources); },
    oomKills: async (cgroupsPath) => await (await manager.open(cgroupsPath)).oomKills?.() ?? 0,
    oomSource: async (cgroupsPath) => {
      const handle = await manager.open(cgroupsPath);
      const memoryDir = handle.version === 1 ? handle.directories['memory'] : handle.directories['unified'];
      return memoryDir === undefined ? undefined : { version: handle.version, memoryDir };
    },
  };
}

export async function startDaemon(config: ResolvedConfig, log: Logger, platform: DaemonPlatform): Promise<RunningDaemon> {
  for (const warning of platform.warnings) log.warn(warning);
  // hosts parsed and certificates read before anything is made (a flag mistake leaves nothing)
  const listen = prepareListen({ hosts: config.hosts, ...(config.tls ? { tls: config.tls } : {}), socketGroup: config.group });
  await mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(config.execRoot, { recursive: true, mode: 0o700 });
  const events = new EventBus();
  const images = new ImageService({ root: path.join(config.dataRoot, 'image'), ...(config.storageDriver ? { driver: config.storageDriver } : {}) });
  await images.recover();
  const cgroups = platform.cgroups;
  const runtimes = runtimeSet(config, cgroups);
  // cgroup v1 counts block I/O only on disks with throttling active: activate it for the data root's disk
  await activateBlkioAccounting(cgroups, `berth-blkio-activate-${process.pid}`, config.dataRoot)
    .catch((err: unknown) => log.debug(`block I/O accounting: ${String(err)}`));
  const networks = new NetworksService({
    dataRoot: config.dataRoot, execRoot: config.execRoot,
    ...(config.bip ? { defaultBridgeSubnet: config.bip } : {}), ...(config.mtu ? { mtu: config.mtu } : {}),
    publishBehindHostFirewall: config.publishBehindHostFirewall,
    ...(platform.rootlessNetwork ? { rootless: platform.rootlessNetwork } : {}),
    onEvent: (e) => events.publish('network', e.Action, e.Actor.ID, e.Actor.Attributes),
  });
  const kernel = os.release();
  const volumes: VolumesService = new VolumesService({
    root: path.join(config.dataRoot, 'volumes'),
    containers: (): ContainerRecord[] => containers.store.all(),
    lookup: (idOrName): ContainerRecord => containers.store.resolve(idOrName),
    onEvent: (action, name, attributes) => events.publish('volume', action, name, attributes),
    warn: (message) => log.warn(message),
  });
  await volumes.load();
  // dockerd reports a container's volumes unmounted after its die
  events.follow((e) => { if (e.Type === 'container') volumes.containerEvent(e.Action, e.Actor.ID); });
  const userns = await UsernsService.open({ dataRoot: config.dataRoot, ...(config.usernsRemap !== undefined ? { remap: config.usernsRemap } : {}),
    files: { subuid: config.subuidFile, subgid: config.subgidFile } });
  const layerSharing = await images.snapshotter.probeIdmap?.().catch((err: unknown) => { log.warn(`idmapped mounts: ${String(err)}`); return undefined; });
  const containers: ContainerService = new ContainerService({
    dataRoot: config.dataRoot, execRoot: config.execRoot, images: images.lookup(), rootfs: images.rootfs(), runtimes,
    monitor: new InProcessMonitor(), events, log, networks, cgroupParent: config.cgroupParent,
    ...(platform.containerCgroups ? { cgroups: cgroupAccess(cgroups) } : {}),
    resourceWarnings: (hostConfig) => platform.resourceWarnings(hostConfig), userns,
    removeAnonymousVolumes: (id) => volumes.removeAnonymousOf(id),
    volumeOf: (id, name, destination) => volumes.mountOf(id, name, destination),
    createVolumes: (record) => volumes.createFor(record),
    ...(platform.containerCgroups ? { resourceSupport: await probeResourceSupport(cgroups) } : {}),
    logOptions: parseLogOptions(config.logOpts),
    bundle: {
      initBinary: await firstExisting(['/usr/bin/tini-static', '/usr/bin/docker-init']),
      defaultSeccomp: (caps) => defaultSeccompProfile(caps, process.arch, { kernelVersion: kernel }),
      convertSeccomp: (json, caps) => convertSeccompProfile(json, caps),
      resolveVolumes: (record, rootfs) => volumes.resolve(record, rootfs),
      hostResolvConf: () => networks.hostResolvConf(),
      daemonInUserNamespace: platform.rootless,
    },
  });
  images.setImageUsers(async (imageId) => containers.store.all().filter((c) => c.Image === imageId)
    .map((c) => ({ containerId: c.Id, running: c.State.Running })));

  const wasRunning = await containers.recover();
  await userns.sweep(new Set(containers.store.all().map((c) => c.Id)));
  await sweepLeftovers(config, containers, images, runtimes, cgroups, log);
  await networks.start([]);
  const containerApi = new ContainerApi(containers, { commit: (request) => images.commit(request) },
    (id) => volumes.removeAnonymousOf(id));
  const imagesApi = new ImagesApi(images, events, { insecureRegistries: config.insecureRegistries });
  const system = new SystemApi({
    name: os.hostname(), dataRoot: config.dataRoot, execRoot: config.execRoot, defaultRuntime: config.defaultRuntime,
    runtimes: Object.keys(config.runtimes), cgroupVersion: cgroups.version, cgroupParent: config.cgroupParent,
    insecureRegistries: config.insecureRegistries, storageDriver: images.snapshotter.driver === 'overlay' ? 'overlay2' : 'vfs',
    apiVersion: API_VERSION_NEWEST, minApiVersion: API_VERSION_OLDEST,
    securityOptions: [...platform.securityOptions, ...userns.securityOptions(layerSharing)], warnings: platform.warnings, limited: platform.limited,
  }, containers, images, events);
  const builder = await BuildService.open({
    images, runtime: runtimes.get(), dataRoot: path.join(config.dataRoot, 'build'), runRoot: path.join(config.execRoot, 'build'),
    cgroupParent: config.cgroupParent, network: sandboxBuildNetwork(networks), trace: (phase, ms) => log.debug(formatPhase(phase, ms)),
    ...(config.buildCacheKeepBytes !== undefined ? { cacheMaxBytes: config.buildCacheKeepBytes } : {}),
    pull: async (reference, onProgress) => {
      await imagesApi.pull(reference, {}, (m) => { if (m.status) onProgress(`${m.id ? `${m.id}: ` : ''}${m.status}\n`); });
    },
  });
  system.setDiskUsage(new DiskUsage(diskUsageSources({ dataRoot: config.dataRoot, containers, images, volumes, builder })));

  const attachable: AttachableContainers = {
    withRecord: (ref, work) => containers.withRecord(ref, work),
    save: (record) => containers.store.save(record),
    dir: (id) => containers.store.dir(id),
  };
  let buildsRunning = 0;
  const checker = new SystemChecker(checkProbes({ dataRoot: config.dataRoot, execRoot: config.execRoot, cgroupParent: config.cgroupParent,
    containers, images, volumes, builder, networks, runtimes, cgroups, buildsRunning: () => buildsRunning }));
  const router = new Router(log)
    .add(systemRoutes(system))
    .add(systemCheckRoutes(checker))
    .add(containerRoutes(containerApi))
    .add(imageRoutes(imagesApi))
    .add(volumeRoutes({
      create: (request) => volumes.create(request),
      list: (filters) => volumes.list(filters),
      inspect: (name) => volumes.inspect(name),
      remove: (name, force) => volumes.remove(name, force),
      prune: (filters) => volumes.prune(filters),
    }))
    .add(networkRoutes({
      create: (request) => networks.create(request),
      list: (filters) => networks.list(filters),
      inspect: (id) => networks.inspect(id),
      remove: (id) => networks.remove(id),
      prune: (filters) => networks.prune(filters),
      connectContainer: (network, container, endpoint) => connectContainer(attachable, networks, network, container, endpoint ?? {}),
      disconnectContainer: (network, container, force) => disconnectContainer(attachable, networks, network, container, force),
    }))
    .add(buildRoutes({
      build: async (query, context: Readable, onMessage) => {
        const request = buildRequestFromQuery(query);
        let sent = false;
        const quiet = ['1', 'true'].includes(query.get('q') ?? '');
        buildsRunning++;
        try {
          await buildImage({ ...request, context }, builder, (event) => {
            for (const message of toJsonMessages(event, quiet)) { sent = true; onMessage(message); }
          });
        } catch (err) {
          if (!sent) throw err;
          onMessage(errorMessage(err));
        } finally {
          buildsRunning--;
        }
      },
      prune: (options) => builder.prune(options),
    }));
  const listener = await listenApi(router, listen, log);
  await restartContainers(containers, wasRunning, log);
  events.publish('daemon', 'start', os.hostname(), { name: os.hostname() });
  return {
    listener,
    stop: async () => {
      await listener.close();
      await builder.shutdown();
      await containers.shutdown();
      await images.snapshotter.close?.();
      await networks.close();
      await platform.close();
      await volumes.close();
      await removeEmptyCgroupParent(cgroups, config.cgroupParent);
    },
  };
}

/** The parent group berthd made in every hierarchy goes with it when empty (a busy one stays). */
async function removeEmptyCgroupParent(cgroups: CgroupManager, cgroupParent: string): Promise<void> {
  const dirs = await cgroups.directoriesOf(cgroupParent).catch(() => ({}));
  for (const dir of Object.values(dirs)) await rmdir(dir).catch(() => undefined);
}

/** Runtime containers, snapshots and cgroups of ours that no container record owns. */
async function sweepLeftovers(config: ResolvedConfig, containers: ContainerService, images: ImageService,
  runtimes: RuntimeSet, cgroups: CgroupManager, log: Logger): Promise<void> {
  // a record set aside as corrupt keeps its root: what the container wrote may still be wanted
  const known = new Set([...containers.store.all().map((c) => c.Id), ...containers.store.setAsideIds]);
  for (const name of runtimes.names()) {
    let states;
    try {
      states = await runtimes.get(name).list();
    } catch {
      continue;
    }
    for (const state of states) {
      await runtimes.get(name).delete(state.id, { force: true }).catch((err: unknown) => {
        if (!isBerthError(err, 'not_found')) log.warn(`sweeping runtime container ${state.id}: ${String(err)}`);
      });
    }
  }
  const rootfs = images.rootfs();
  for (const key of await rootfs.list()) {
    if (/^[0-9a-f]{64}$/.test(key) && !known.has(key)) await rootfs.remove(key).catch(() => undefined);
  }
  await sweepCgroups(cgroups, `${config.cgroupParent.replace(/\/+$/, '')}/`).catch((err: unknown) =>
    log.debug(`cgroup sweep: ${String(err)}`));
}

/** Containers started at once after a daemon start: most of a start is waiting (spawns, mounts, the kernel). */
const RESTART_CONCURRENCY = 8;

async function restartContainers(containers: ContainerService, wasRunning: ReadonlyArray<{ Id: string }>, log: Logger): Promise<void> {
  const running = new Set(wasRunning.map((r) => r.Id));
  const due = containers.store.all().filter((record) =>
    startsWithDaemon(record.HostConfig.RestartPolicy, record.ManuallyStopped, running.has(record.Id)));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let record = due[next++]; record !== undefined; record = due[next++]) {
      const id = record.Id;
      await containers.start(id).catch((err: unknown) => log.warn(`restarting ${id.slice(0, 12)}: ${String(err)}`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(RESTART_CONCURRENCY, due.length) }, worker));
}
