// `docker stats` samples in dockerd's JSON from the container's cgroup, with the previous
// sample as precpu_stats so clients can compute CPU percentages.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { CgroupStats } from '../../runtime/cgroups/manager.js';
import { ZERO_TIME } from './record.js';

const USER_HZ = 100;

export async function systemCpuNanos(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8');
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
  const ticks = fields.slice(0, 8).reduce((sum, n) => sum + (Number.isFinite(n) ? n : 0), 0);
  return ticks * (1e9 / USER_HZ);
}

export interface StatsSample {
  read: string;
  cpu: Record<string, unknown>;
}

export function emptyCpuStats(): Record<string, unknown> {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

export function statsJson(id: string, name: string, stats: CgroupStats | undefined, systemNanos: number,
  previous: StatsSample | undefined): { json: Record<string, unknown>; sample: StatsSample } {
  const read = new Date().toISOString();
  const cpu: Record<string, unknown> = stats ? {
    cpu_usage: {
      total_usage: stats.cpu.usageNanos,
      ...(stats.cpu.perCpuNanos.length > 0 ? { percpu_usage: stats.cpu.perCpuNanos } : {}),
      usage_in_kernelmode: stats.cpu.systemNanos,
      usage_in_usermode: stats.cpu.userNanos,
    },
    system_cpu_usage: systemNanos,
    online_cpus: os.availableParallelism(),
    throttling_data: {
      periods: stats.cpu.throttling.periods,
      throttled_periods: stats.cpu.throttling.throttledPeriods,
      throttled_time: stats.cpu.throttling.throttledNanos,
    },
  } : emptyCpuStats();
  const json: Record<string, unknown> = {
    name, id, read,
    preread: previous?.read ?? ZERO_TIME,
    pids_stats: stats ? { current: stats.pids.current, ...(stats.pids.limit === null ? {} : { limit: stats.pids.limit }) } : {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
      io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: previous?.cpu ?? emptyCpuStats(),
    memory_stats: stats ? {
      usage: stats.memory.usage,
      ...(stats.memory.maxUsage === null ? {} : { max_usage: stats.memory.maxUsage }),
      stats: stats.memory.stat,
      ...(stats.memory.failCount ? { failcnt: stats.memory.failCount } : {}),
      limit: stats.memory.limit ?? os.totalmem(),
    } : {},
  };
  return { json, sample: { read, cpu } };
}
