// HostConfig resources -> OCI linux.resources and process.rlimits, with dockerd's rules
// (NanoCpus as a CFS quota, MemorySwap defaulting to twice Memory, PidsLimit <= 0 = none).
import os from 'node:os';
import { invalidArgument } from '../../errors/berth-error.js';
import type { LinuxResources, Rlimit } from '../../oci/runtime-spec.js';
import type { Resources } from './create-request.js';

const CFS_PERIOD = 100_000;
const MIN_MEMORY = 6 * 1024 * 1024;

export function checkResources(r: Resources): void {
  if (r.Memory !== undefined && r.Memory > 0 && r.Memory < MIN_MEMORY) {
    throw invalidArgument('MEMORY_TOO_LOW', 'Minimum memory limit allowed is 6MB');
  }
  if (r.NanoCpus && (r.CpuQuota || r.CpuPeriod)) {
    throw invalidArgument('CPU_CONFLICT', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (r.MemorySwap !== undefined && r.MemorySwap > 0 && r.Memory !== undefined && r.Memory > 0 && r.MemorySwap < r.Memory) {
    throw invalidArgument('SWAP_TOO_LOW', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (r.MemoryReservation && r.Memory && r.Memory < r.MemoryReservation) {
    throw invalidArgument('RESERVATION_TOO_HIGH', 'Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.CpusetCpus && !/^[0-9,-]+$/.test(r.CpusetCpus)) {
    throw invalidArgument('BAD_CPUSET', `Invalid value ${r.CpusetCpus} for cpuset cpus`);
  }
  if (r.NanoCpus) {
    const cpus = r.NanoCpus / 1e9;
    const online = onlineCpus();
    if (cpus > online) throw invalidArgument('TOO_MANY_CPUS', `range of CPUs is from 0.01 to ${online}.00, as there are only ${online} CPUs available`);
  }
}

function onlineCpus(): number {
  return os.availableParallelism();
}

export function toLinuxResources(r: Resources): LinuxResources {
  const out: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (r.Memory) memory.limit = r.Memory;
  if (r.MemoryReservation) memory.reservation = r.MemoryReservation;
  if (r.MemorySwap !== undefined && r.MemorySwap !== 0) memory.swap = r.MemorySwap;
  else if (r.Memory) memory.swap = r.Memory * 2;
  if (r.MemorySwappiness !== undefined && r.MemorySwappiness !== null && r.MemorySwappiness >= 0) memory.swappiness = r.MemorySwappiness;
  if (r.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) out.memory = memory;

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.CpuShares) cpu.shares = r.CpuShares;
  if (r.NanoCpus) {
    cpu.period = CFS_PERIOD;
    cpu.quota = Math.round(r.NanoCpus * CFS_PERIOD / 1e9);
  }
  if (r.CpuQuota) cpu.quota = r.CpuQuota;
  if (r.CpuPeriod) cpu.period = r.CpuPeriod;
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (r.CpuRealtimePeriod) cpu.realtimePeriod = r.CpuRealtimePeriod;
  if (r.CpuRealtimeRuntime) cpu.realtimeRuntime = r.CpuRealtimeRuntime;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit > 0) out.pids = { limit: r.PidsLimit };
  if (r.BlkioWeight) out.blockIO = { weight: r.BlkioWeight };
  return out;
}

export function toRlimits(r: Resources): Rlimit[] {
  return (r.Ulimits ?? []).map((u) => {
    const name = u.Name.toLowerCase();
    if (!/^[a-z]+$/.test(name)) throw invalidArgument('BAD_ULIMIT', `invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw invalidArgument('BAD_ULIMIT', `ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    return { type: `RLIMIT_${name.toUpperCase()}`, soft: u.Soft < 0 ? 2 ** 64 - 1 : u.Soft, hard: u.Hard < 0 ? 2 ** 64 - 1 : u.Hard };
  });
}
