// /version, /info, /system/df, /auth and the event stream, with real figures from the
// host and the services.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { BerthError } from '../../errors/berth-error.js';
import { RegistryClient } from '../../registry/client.js';
import { verifyCredentials } from '../../registry/login.js';
import type { ContainerService } from '../containers/service.js';
import type { DockerEvent, EventBus, EventFilters, EventSubscription } from '../events/event-bus.js';
import type { ImageService } from '../images/image-service.js';
import type { DiskUsage, DfType } from '../system/disk-usage.js';

const DF_TYPES: readonly DfType[] = ['container', 'image', 'volume', 'build-cache'];

export const BERTH_VERSION = '0.1.0';

export interface SystemInfoOptions {
  name: string;
  dataRoot: string;
  execRoot: string;
  defaultRuntime: string;
  runtimes: string[];
  cgroupVersion: 1 | 2;
  cgroupParent: string;
  insecureRegistries: readonly string[];
  storageDriver: string;
  apiVersion: string;
  minApiVersion: string;
  /** besides seccomp, e.g. "name=rootless" */
  securityOptions?: readonly string[];
  warnings?: readonly string[];
  /** limits containers cannot have (rootless without cgroup delegation): memory, cpu, pids, io, freezer */
  limited?: readonly string[];
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };

export class SystemApi {
  private readonly id = `berth-${Math.random().toString(36).slice(2, 10)}`;

  constructor(private readonly options: SystemInfoOptions, private readonly containers: ContainerService,
    private readonly images: ImageService, private readonly events: EventBus) {}

  /** the /system/df accountant (it reads every service's data; wired by berthd) */
  private usage: DiskUsage | undefined;

  setDiskUsage(usage: DiskUsage): void {
    this.usage = usage;
  }

  version(): {
    Platform: { Name: string }; Components: Array<{ Name: string; Version: string; Details?: Record<string, string> }>; Version: string;
    ApiVersion: string; MinAPIVersion: string; GitCommit: string; GoVersion: string; Os: string; Arch: string; KernelVersion: string;
    BuildTime: string; Experimental: boolean;
  } {
    const arch = GO_ARCH[process.arch] ?? process.arch;
    return {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: this.options.apiVersion, Arch: arch,
        KernelVersion: os.release(), MinAPIVersion: this.options.minApiVersion, Os: 'linux', NodeVersion: process.version } }],
      Version: BERTH_VERSION, ApiVersion: this.options.apiVersion, MinAPIVersion: this.options.minApiVersion,
      GitCommit: 'berth', GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: arch, KernelVersion: os.release(),
      BuildTime: '', Experimental: false,
    };
  }

  async info(): Promise<Record<string, unknown>> {
    const all = this.containers.store.all();
    const running = all.filter((c) => c.State.Running && !c.State.Paused).length;
    const paused = all.filter((c) => c.State.Paused).length;
    const images = await this.images.list({ all: false });
    const osName = await readFile('/etc/os-release', 'utf8').then((t) => /^PRETTY_NAME="?([^"\n]*)"?/m.exec(t)?.[1] ?? 'Linux').catch(() => 'Linux');
    return {
      ID: this.id, Containers: all.length, ContainersRunning: running, ContainersPaused: paused,
      ContainersStopped: all.length - running - paused, Images: images.length,
      Driver: this.options.storageDriver, DriverStatus: [['Backing Filesystem', 'extfs']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'none'] },
      ...this.limitSupport(),
      IPv4Forwarding: true, Debug: false, NFd: 0, OomKillDisable: this.options.cgroupVersion === 1, NGoroutines: 0,
      SystemTime: new Date().toISOString(), LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs',
      CgroupVersion: String(this.options.cgroupVersion), NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: osName,
      OSVersion: '', OSType: 'linux', Architecture: os.machine(), IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], IndexConfigs: {}, Mirrors: [],
        AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null },
      NCPU: os.availableParallelism(), MemTotal: os.totalmem(), DockerRootDir: this.options.dataRoot, HttpProxy: '', HttpsProxy: '',
      NoProxy: '', Name: this.options.name, Labels: [], ExperimentalBuild: false, ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(this.options.runtimes.map((r) => [r, { path: r === 'berth' ? 'berth-runtime (built in)' : r }])),
      DefaultRuntime: this.options.defaultRuntime, Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false, Isolation: '', InitBinary: 'docker-init', ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' },
      InitCommit: { ID: '' }, SecurityOptions: ['name=seccomp,profile=builtin', ...(this.options.securityOptions ?? [])],
      Warnings: this.options.warnings?.length ? [...this.options.warnings] : null,
    };
  }

  /** GET /system/df: the report of the disk usage accountant berthd wires in */
  /** info's limit flags: false for what the daemon cannot apply */
  private limitSupport(): Record<string, boolean> {
    const has = (feature: string): boolean => !(this.options.limited ?? []).includes(feature);
    return {
      MemoryLimit: has('memory'), SwapLimit: has('memory'), CpuCfsPeriod: has('cpu'), CpuCfsQuota: has('cpu'), CPUShares: has('cpu'),
      CPUSet: has('cpu'), PidsLimit: has('pids'),
    };
  }

  async diskUsage(types: readonly string[]): Promise<Record<string, unknown>> {
    const known = types.filter((t): t is DfType => (DF_TYPES as readonly string[]).includes(t));
    if (known.length !== types.length) {
      throw new BerthError('invalid_argument', 'INVALID_DF_TYPE', `invalid type: ${types.find((t) => !known.includes(t as DfType)) ?? ''}`);
    }
    if (!this.usage) throw new BerthError('unavailable', 'NO_DISK_USAGE', 'disk usage is not wired');
    return await this.usage.report(known);
  }

  async auth(credentials: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): Promise<{ Status: string; IdentityToken?: string }> {
    if (!credentials.username && !credentials.identitytoken) {
      throw new BerthError('invalid_argument', 'NO_CREDENTIALS', 'no username or identity token given');
    }
    const client = new RegistryClient({ insecureRegistries: this.options.insecureRegistries });
    try {
      const result = await verifyCredentials(client, credentials.serveraddress || 'docker.io', {
        username: credentials.username ?? '', ...(credentials.password ? { password: credentials.password } : {}),
        ...(credentials.identitytoken ? { identityToken: credentials.identitytoken } : {}),
      });
      return { Status: result.status, ...(result.identityToken ? { IdentityToken: result.identityToken } : {}) };
    } finally {
      client.close();
    }
  }

  subscribeEvents(filters: EventFilters, sinceNanos: number | undefined, onEvent: (event: DockerEvent) => void): EventSubscription {
    return this.events.subscribe(filters, sinceNanos, onEvent);
  }
}
