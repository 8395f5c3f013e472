// `docker stats` samples in dockerd's JSON from the container's cgroup, with the previous
// sample as precpu_stats so clients can compute CPU percentages.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { CgroupStats, IoDeviceStats } from '../../runtime/cgroups/manager.js';
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

/** One interface's counters in docker's `networks` section. */
export interface InterfaceStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/**
 * /proc/<pid>/net/dev of a process in the container's network namespace -> per interface
 * counters, loopback left out as docker does. Lines that do not parse are skipped.
 */
export function parseNetDev(text: string): Record<string, InterfaceStats> {
  const result: Record<string, InterfaceStats> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([^\s:]+):\s*(.*)$/.exec(line);
    if (!match || match[1] === 'lo') continue;
    const n = (match[2] ?? '').trim().split(/\s+/).map(Number);
    if (n.length < 16 || n.some((v) => !Number.isFinite(v))) continue;
    const at = (i: number): number => n[i] ?? 0;
    result[match[1] ?? ''] = { rx_bytes: at(0), rx_packets: at(1), rx_errors: at(2), rx_dropped: at(3),
      tx_bytes: at(8), tx_packets: at(9), tx_errors: at(10), tx_dropped: at(11) };
  }
  return result;
}

/** The container's interfaces, read through its init process; undefined when it has none of its own. */
export async function networkStats(pid: number): Promise<Record<string, InterfaceStats> | undefined> {
  if (pid <= 0) return undefined;
  const text = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => undefined);
  const interfaces = text === undefined ? {} : parseNetDev(text);
  return Object.keys(interfaces).length > 0 ? interfaces : undefined;
}

/** docker's blkio_stats from per-device counters (the op names docker uses on cgroup v2). */
export function blkioJson(devices: readonly IoDeviceStats[]): Record<string, unknown> {
  const entries = (read: number, write: number, d: IoDeviceStats): object[] => [
    { major: d.major, minor: d.minor, op: 'read', value: read },
    { major: d.major, minor: d.minor, op: 'write', value: write },
  ];
  const none = { io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
    io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null };
  if (devices.length === 0) return { io_service_bytes_recursive: null, io_serviced_recursive: null, ...none };
  return {
    io_service_bytes_recursive: devices.flatMap((d) => entries(d.readBytes, d.writeBytes, d)),
    io_serviced_recursive: devices.flatMap((d) => entries(d.readOps, d.writeOps, d)),
    ...none,
  };
}

export function statsJson(id: string, name: string, stats: CgroupStats | undefined, systemNanos: number,
  previous: StatsSample | undefined, networks?: Record<string, InterfaceStats>): { json: Record<string, unknown>; sample: StatsSample } {
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
    blkio_stats: blkioJson(stats?.io ?? []),
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
    ...(networks ? { networks } : {}),
  };
  return { json, sample: { read, cpu } };
}
