// What differs between a rootful and a rootless berthd, decided once at start and handed to
// the composition root (wiring.ts): the cgroup manager, the network mechanism, what `info`
// says, and the warnings for limits that cannot be applied. Nothing else branches on it.
import { detectCgroupManager, type CgroupManager } from '../../runtime/cgroups/manager.js';
import { RootlessNetns, type RootlessNetnsState } from '../../network/rootless-netns.js';
import type { RootlessNetworking } from '../../network/rootless-ports.js';
import { decideRootlessCgroups, NoCgroupManager, probeCgroups, type CgroupDecision } from './cgroups.js';

export interface DaemonPlatform {
  readonly rootless: boolean;
  readonly cgroups: CgroupManager;
  /** containers get a cgroup of their own (false: rootless without a delegated cgroup v2 subtree) */
  readonly containerCgroups: boolean;
  /** rootless: the rootless netns holding the bridge networks (undefined: the host's namespace) */
  readonly rootlessNetwork: RootlessNetworking | undefined;
  /** info.SecurityOptions entries besides seccomp ("name=rootless") */
  readonly securityOptions: readonly string[];
  /** info.Warnings, also logged at start */
  readonly warnings: readonly string[];
  /** docker's feature names that containers cannot have (memory, cpu, pids, io, freezer) */
  readonly limited: readonly string[];
  /** warnings for a create/update that asks for a limit in `limited` */
  resourceWarnings(hostConfig: object): string[];
  /** after the daemon stopped: what the platform made (the rootless netns and its pasta) */
  close(): Promise<void>;
}

export async function rootfulPlatform(): Promise<DaemonPlatform> {
  return {
    rootless: false, cgroups: await detectCgroupManager(), containerCgroups: true, rootlessNetwork: undefined,
    securityOptions: [], warnings: [], limited: [], resourceWarnings: () => [], close: async () => undefined,
  };
}

export async function rootlessPlatform(execRoot: string): Promise<DaemonPlatform> {
  const probe = await probeCgroups();
  const decision = decideRootlessCgroups(probe);
  const cgroups = decision.useCgroups ? await detectCgroupManager() : new NoCgroupManager(probe.version);
  const netns = new RootlessNetns(`${execRoot}/rootless-netns`);
  await netns.open();
  return rootlessPlatformFrom(decision, cgroups, netns, netns.networking(), () => netns.close());
}

export function rootlessPlatformFrom(decision: CgroupDecision, cgroups: CgroupManager, netns: RootlessNetnsState,
  network: RootlessNetworking, close: () => Promise<void>): DaemonPlatform {
  return {
    rootless: true, cgroups, containerCgroups: decision.useCgroups, rootlessNetwork: network, close,
    securityOptions: ['name=rootless'],
    warnings: [decision.warning, ...netns.warnings].filter((w): w is string => w !== undefined).map((w) => `WARNING: ${w}`),
    limited: decision.limited,
    resourceWarnings: (hostConfig) => limitWarnings(hostConfig, decision.limited),
  };
}

/** HostConfig fields -> the feature that applies them */
const LIMIT_FIELDS: Readonly<Record<string, string>> = {
  Memory: 'memory', MemoryReservation: 'memory', MemorySwap: 'memory', KernelMemory: 'memory',
  NanoCpus: 'cpu', CpuShares: 'cpu', CpuQuota: 'cpu', CpuPeriod: 'cpu', CpusetCpus: 'cpu', CpusetMems: 'cpu',
  PidsLimit: 'pids', BlkioWeight: 'io', BlkioDeviceReadBps: 'io', BlkioDeviceWriteBps: 'io',
};

/** One warning per limit asked for that cannot be applied (the docker CLI prefixes "WARNING: "). */
export function limitWarnings(hostConfig: object, limited: readonly string[]): string[] {
  const out = new Set<string>();
  for (const [field, value] of Object.entries(hostConfig)) {
    const feature = LIMIT_FIELDS[field];
    if (!feature || !limited.includes(feature) || !isSet(value)) continue;
    out.add(`rootless berthd cannot apply ${field} (${feature} limits need a delegated cgroup v2 subtree); limitation discarded.`);
  }
  return [...out];
}

function isSet(value: unknown): boolean {
  if (typeof value === 'number') return value !== 0 && value !== -1;
  if (typeof value === 'string') return value !== '';
  if (Array.isArray(value)) return value.length > 0;
  return false;
}
