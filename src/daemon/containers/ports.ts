// What the container service needs from other domains, as small interfaces of its own;
// berthd/main.ts wires the images service, the snapshotter, the networks service and the
// cgroup manager into them (no sideways imports between daemon domains).
import type { ContainerConfig as ImageContainerConfig } from '../../oci/image.js';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { IdMaps } from '../../sys/idmap.js';
import type { OomSource } from './oom-watch.js';

export interface ContainerImage {
  /** sha256:... */
  id: string;
  /** the runtime part of the image config (Env, Cmd, Entrypoint, User, ...) */
  config: ImageContainerConfig;
}

export interface ImageLookup {
  /** a reference, id or id prefix -> the image; not_found (NO_SUCH_IMAGE) when absent */
  resolve(ref: string): Promise<ContainerImage>;
  /** image ids still used by some container keep `rmi` from removing them */
  familiarName?(id: string): Promise<string | undefined>;
}

/** Writable root file systems of containers over their image's layers. */
export interface ContainerRootfs {
  /**
   * create (first time) and mount the container's root; returns its path. With idmap: owned by
   * the mapped ids; durable false: its record is not fsynced (a root removed after a crash anyway)
   */
  mount(containerId: string, imageId: string, idmap?: IdMaps, options?: { durable?: boolean }): Promise<string>;
  unmount(containerId: string): Promise<void>;
  remove(containerId: string): Promise<void>;
  /** the container's changes as an uncompressed layer tar (whiteouts for deletions) */
  diff(containerId: string): AsyncIterable<Uint8Array>;
  /** ids of every container root this snapshotter knows (sweeping) */
  list(): Promise<string[]>;
}

export interface CommitRequest {
  containerId: string;
  parentImageId: string;
  /** the new image's container config */
  config: ImageContainerConfig;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
}

export interface ImageCommitter {
  /** turn the container's diff into a layer on top of its image; returns the new image id */
  commit(request: CommitRequest): Promise<string>;
}

export interface RuntimeSet {
  readonly defaultName: string;
  names(): string[];
  /** not_found-ish invalid_argument for an unknown name */
  get(name?: string): Runtime;
}

/** The cgroup side of stats and update (runtime/cgroups). */
export interface CgroupAccess {
  stats(cgroupsPath: string): Promise<import('../../runtime/cgroups/manager.js').CgroupStats>;
  update(cgroupsPath: string, resources: LinuxResources): Promise<void>;
  /** how many processes the OOM killer killed in the cgroup (v1 memory.oom_control, v2 memory.events oom_kill) */
  oomKills?(cgroupsPath: string): Promise<number>;
  /** where the container's memory cgroup is, for OOM kills as they happen (oom-watch.ts); undefined without one */
  oomSource?(cgroupsPath: string): Promise<OomSource | undefined>;
  /** every cgroup path under a parent (sweeping after a crash) */
  sweep?(parent: string, keep: readonly string[]): Promise<void>;
}

/** How a container joins networks (the networks service implements it). */
export interface SandboxRequest {
  name: string;
  hostname: string;
  domainname?: string;
  networkMode: string;
  endpoints?: Record<string, Record<string, unknown>>;
  portBindings?: Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  publishAllPorts?: boolean;
  exposedPorts?: Record<string, unknown>;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  extraHosts?: string[];
  /** legacy --link targets on the default bridge (resolved by the container service) */
  links?: Array<{ name: string; alias: string; containerId: string }>;
}

export interface SandboxResult {
  netnsPath: string | null;
  hostsContent: string;
  resolvConfContent: string;
  hostnameContent: string;
  /** inspect's NetworkSettings */
  settings: object;
}

export interface SandboxProvider {
  createSandbox(containerId: string, request: SandboxRequest): Promise<SandboxResult>;
  destroySandbox(containerId: string): Promise<void>;
  sandbox(containerId: string): SandboxResult | undefined;
}
