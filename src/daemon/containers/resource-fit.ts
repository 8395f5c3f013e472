// dockerd's platform check of a create's (or update's) resources against what the host's cgroups
// can do (daemon_unix.go verifyPlatformContainerResources, docker 20.10): a limit the kernel has
// no file for is dropped with dockerd's warning, so inspect shows it unset as dockerd's does; a
// value no kernel accepts is refused with dockerd's message.
import { conflict, invalidArgument } from '../../errors/berth-error.js';
import type { HostConfig, Resources } from './create-request.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './oci-defaults.js';

/** What the cgroup hierarchies containers go in support (probed once at daemon start). */
export interface ResourceSupport {
  memoryLimit: boolean;
  swapLimit: boolean;
  memoryReservation: boolean;
  oomKillDisable: boolean;
  memorySwappiness: boolean;
  kernelMemory: boolean;
  cpuShares: boolean;
  cpuCfs: boolean;
  cpuset: boolean;
  blkioWeight: boolean;
  blkioWeightDevice: boolean;
  blkioReadBps: boolean;
  blkioWriteBps: boolean;
  blkioReadIOps: boolean;
  blkioWriteIOps: boolean;
  pidsLimit: boolean;
  /** the cpus and memory nodes cpuset may name, as "0-3,6" lists (undefined: not checked) */
  cpus?: string;
  mems?: string;
}

/** Resources plus the field docker's API still carries outside the typed schema. */
type FitResources = Resources & { KernelMemory?: unknown };

const MIN_MEMORY = 6 * 1024 * 1024;

export interface Fitted<R> {
  resources: R;
  warnings: string[];
}

/**
 * dockerd's checks in its order: refusals throw (400), unsupported limits are dropped with
 * a warning. `update` skips the check that needs the whole config (swap without memory).
 * Without `support` every limit is taken as supported (only the platform-independent rules run).
 */
export function fitResources<R extends FitResources>(input: R, support: ResourceSupport | undefined, update = false): Fitted<R> {
  const r: R = { ...input };
  const warnings: string[] = [];
  const all = support ?? allSupported();
  fitMemory(r, all, warnings, update);
  fitCpu(r, all, warnings);
  fitBlkio(r, all, warnings);
  return { resources: r, warnings };
}

function fitMemory(r: FitResources, s: ResourceSupport, warnings: string[], update: boolean): void {
  if (r.Memory && r.Memory > 0 && !s.memoryLimit) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.Memory = 0;
    r.MemorySwap = -1;
  }
  if (r.Memory && r.Memory > 0 && r.MemorySwap !== -1 && !s.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    r.MemorySwap = -1;
  }
  if (!r.Memory && r.MemorySwap !== undefined && r.MemorySwap > 0 && !update) {
    throw invalidArgument('SWAP_WITHOUT_MEMORY', 'You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness !== -1 && !s.memorySwappiness) {
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    r.MemorySwappiness = null;
  }
  if (r.MemoryReservation && r.MemoryReservation > 0 && !s.memoryReservation) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.MemoryReservation = 0;
  }
  if (r.MemoryReservation && r.MemoryReservation > 0 && r.MemoryReservation < MIN_MEMORY) {
    throw invalidArgument('RESERVATION_TOO_LOW', 'Minimum memory reservation allowed is 6MB');
  }
  const kernelMemory = typeof r.KernelMemory === 'number' ? r.KernelMemory : 0;
  if (kernelMemory > 0) {
    warnings.push('Specifying a kernel memory limit is deprecated and will be removed in a future release.');
    if (!s.kernelMemory) {
      warnings.push('Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
      r.KernelMemory = 0;
    } else if (kernelMemory < MIN_MEMORY) {
      throw invalidArgument('KERNEL_MEMORY_TOO_LOW', 'Minimum kernel memory limit allowed is 6MB');
    }
  }
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null && !s.oomKillDisable) {
    // dockerd warns only when the killer was to be disabled: false asks for what there is
    if (r.OomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    r.OomKillDisable = null;
  }
  if (r.OomKillDisable === true && !r.Memory) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && !s.pidsLimit) {
    if (r.PidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    r.PidsLimit = null;
  }
}

function fitCpu(r: FitResources, s: ResourceSupport, warnings: string[]): void {
  if (r.CpuShares && r.CpuShares > 0 && !s.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    r.CpuShares = 0;
  }
  if ((r.CpuPeriod || r.CpuQuota) && !s.cpuCfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    r.CpuPeriod = 0;
    r.CpuQuota = 0;
  }
  if (r.CpuPeriod && (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000)) {
    throw invalidArgument('BAD_CPU_PERIOD', 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (r.CpuQuota && r.CpuQuota > 0 && r.CpuQuota < 1000) {
    throw invalidArgument('BAD_CPU_QUOTA', 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  }
  if (r.CpuPercent && r.CpuPercent > 0) {
    warnings.push('linux does not support CPU percent. Percent discarded.');
    r.CpuPercent = 0;
  }
  if ((r.CpusetCpus || r.CpusetMems) && !s.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    r.CpusetCpus = '';
    r.CpusetMems = '';
  }
  const cpus = r.CpusetCpus ? parseList(r.CpusetCpus, `Invalid value ${r.CpusetCpus} for cpuset cpus`) : [];
  if (s.cpus !== undefined && r.CpusetCpus && !isSubset(cpus, parseList(s.cpus, 'cpus'))) {
    throw invalidArgument('CPUS_NOT_AVAILABLE', `Requested CPUs are not available - requested ${r.CpusetCpus}, available: ${s.cpus}`);
  }
  const mems = r.CpusetMems ? parseList(r.CpusetMems, `Invalid value ${r.CpusetMems} for cpuset mems`) : [];
  if (s.mems !== undefined && r.CpusetMems && !isSubset(mems, parseList(s.mems, 'mems'))) {
    throw invalidArgument('MEMS_NOT_AVAILABLE', `Requested memory nodes are not available - requested ${r.CpusetMems}, available: ${s.mems}`);
  }
}

function fitBlkio(r: FitResources, s: ResourceSupport, warnings: string[]): void {
  if (r.BlkioWeight && r.BlkioWeight > 0 && !s.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  }
  if (r.BlkioWeight && r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) {
    throw invalidArgument('BAD_BLKIO_WEIGHT', 'Range of blkio weight is from 10 to 1000');
  }
  if (r.IOMaximumBandwidth) throw invalidArgument('IO_MAXIMUM', 'Invalid QoS settings: linux does not support configuration of maximum bandwidth');
  if (r.IOMaximumIOps) throw invalidArgument('IO_MAXIMUM', 'Invalid QoS settings: linux does not support configuration of maximum IOPs');
  const lists = [
    ['BlkioWeightDevice', s.blkioWeightDevice, 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.'],
    ['BlkioDeviceReadBps', s.blkioReadBps, 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['BlkioDeviceWriteBps', s.blkioWriteBps, 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['BlkioDeviceReadIOps', s.blkioReadIOps, 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['BlkioDeviceWriteIOps', s.blkioWriteIOps, 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ] as const;
  for (const [field, supported, warning] of lists) {
    if ((r[field]?.length ?? 0) === 0 || supported) continue;
    warnings.push(warning);
    r[field] = [];
  }
}

/** "0-2,5" -> [0, 1, 2, 5]; docker's message for anything else. */
function parseList(list: string, what: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw invalidArgument('BAD_CPUSET', what);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 65536) throw invalidArgument('BAD_CPUSET', what);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

function isSubset(wanted: readonly number[], available: readonly number[]): boolean {
  const have = new Set(available);
  return wanted.every((n) => have.has(n));
}

function allSupported(): ResourceSupport {
  return {
    memoryLimit: true, swapLimit: true, memoryReservation: true, oomKillDisable: true, memorySwappiness: true, kernelMemory: true,
    cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: true, blkioWeightDevice: true, blkioReadBps: true,
    blkioWriteBps: true, blkioReadIOps: true, blkioWriteIOps: true, pidsLimit: true,
  };
}

interface HostDefaults {
  ShmSize?: number | undefined;
  Privileged?: boolean | undefined;
  MaskedPaths?: string[] | null | undefined;
  ReadonlyPaths?: string[] | null | undefined;
}

/**
 * The values dockerd writes into a new container's HostConfig where the request left them unset
 * (adaptContainerSettings and the API's normalizing), so inspect answers what dockerd's does:
 * swap twice the memory, the default /dev/shm size, the masked and read-only paths, and "unset" (null) for swappiness -1 and a
 * pids limit of 0 or less. The spec built from it is the same as before (those were the defaults).
 */
export function withDockerdDefaults<H extends FitResources & HostDefaults>(host: H, defaultShmSize: number): H {
  const out: H = { ...host };
  // the paths masked and made read-only, written in for an unprivileged container as dockerd does
  if (!out.Privileged) {
    out.MaskedPaths ??= [...DEFAULT_MASKED_PATHS];
    out.ReadonlyPaths ??= [...DEFAULT_READONLY_PATHS];
  }
  if (out.Memory && out.Memory > 0 && !out.MemorySwap) out.MemorySwap = out.Memory * 2;
  if (!out.ShmSize) out.ShmSize = defaultShmSize;
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  if (out.PidsLimit !== undefined && out.PidsLimit !== null && out.PidsLimit <= 0) out.PidsLimit = null;
  return out;
}

/**
 * `docker update` as dockerd applies it: the limits fitted to the host, then only the fields
 * given a value change the record (the CLI sends 0 for every flag left out); a memory limit
 * above the swap limit recorded at create needs a new swap limit (409), and a memory limit
 * alone keeps the recorded swap limit in the cgroup. `applied` is what the cgroup gets.
 */
export function updatedResources<R extends FitResources>(current: { Id: string; HostConfig: HostConfig }, asked: R,
  support: ResourceSupport | undefined): { host: HostConfig; resources: R; applied: R; warnings: string[] } {
  const { resources, warnings } = fitResources(asked, support, true);
  const host: HostConfig = { ...current.HostConfig };
  for (const [key, value] of Object.entries(resources)) if (isUpdateValue(value)) (host as Record<string, unknown>)[key] = value;
  const recordedSwap = current.HostConfig.MemorySwap ?? 0;
  const memoryAlone = Boolean(resources.Memory) && !resources.MemorySwap;
  if (memoryAlone && recordedSwap > 0 && (resources.Memory ?? 0) > recordedSwap) {
    throw conflict('MEMORY_ABOVE_SWAP', `Cannot update container ${current.Id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
  }
  const applied: R = memoryAlone && host.MemorySwap ? { ...resources, MemorySwap: host.MemorySwap } : resources;
  return { host, resources, applied, warnings };
}

/** An update request field that changes the record: not absent, null, 0, '' or an empty list. */
function isUpdateValue(value: unknown): boolean {
  if (value === undefined || value === null || value === 0 || value === '') return false;
  return !Array.isArray(value) || value.length > 0;
}
