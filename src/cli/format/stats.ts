// docker stats' numbers from raw samples (cli/command/container/stats_helpers.go).
import type { StatsSample } from '../../client/types.js';
import type { ListSpec } from './render.js';
import { bytesSize, humanSize } from './units.js';

export const STATS_SPEC: ListSpec = {
  defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
  headers: {
    ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
    NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
  },
  typeName: '*formatter.statsContext',
};

function cpuPercent(s: StatsSample): number {
  const cpu = s.cpu_stats;
  const pre = s.precpu_stats;
  const cpuDelta = (cpu?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  const cpus = cpu?.online_cpus ?? cpu?.cpu_usage?.percpu_usage?.length ?? 1;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** usage minus page cache, as docker computes it for cgroup v1 and v2 */
function memoryUsage(s: StatsSample): number {
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  for (const key of ['total_inactive_file', 'inactive_file']) {
    const value = stats[key];
    if (typeof value === 'number' && value < usage) return usage - value;
  }
  return usage;
}

export function statsRow(s: StatsSample, id: string, name: string, trunc: boolean): Record<string, string> {
  const mem = memoryUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  const nets = Object.values(s.networks ?? {});
  const rx = nets.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0);
  const tx = nets.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0);
  const io = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const read = io.filter((e) => e.op.toLowerCase() === 'read').reduce((sum, e) => sum + e.value, 0);
  const write = io.filter((e) => e.op.toLowerCase() === 'write').reduce((sum, e) => sum + e.value, 0);
  return {
    ID: trunc ? id.slice(0, 12) : id,
    Container: trunc ? id.slice(0, 12) : id,
    Name: name.replace(/^\//, ''),
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(read)} / ${humanSize(write)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}
