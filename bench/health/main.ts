// bench/health: what health checks cost, berthd against a private dockerd in the same run
// (dockerd only when installed). Each engine runs CONTAINERS containers with
// `--health-cmd true --health-interval 500ms` for WINDOW seconds; we compare
//  - probe duration: End - Start of every result in State.Health.Log (median, p90);
//  - engine CPU per probe: utime+stime (children included) of the engine's processes
//    (berthd; dockerd + containerd + its shims) over the window, divided by the probes run.
// The engines take turns, so machine load hits both alike; run it a few times.
// BENCH_HEALTH_CONTAINERS (default 10) and BENCH_HEALTH_WINDOW (seconds, default 15).
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cleanupBerthd, importBusybox, removeDir, startBerthd, stopBerthd } from '../../test/api/harness.js';
import { docker, startDockerd, type Engine } from '../engines.js';

const CONTAINERS = Number(process.env['BENCH_HEALTH_CONTAINERS'] ?? 10);
const WINDOW_S = Number(process.env['BENCH_HEALTH_WINDOW'] ?? 15);
const CLOCK_TICK_MS = 10; // USER_HZ 100

interface Result { medianMs: number; p90Ms: number; probes: number; cpuMsPerProbe: number }


const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
};

/** utime+stime+cutime+cstime in ms */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) * CLOCK_TICK_MS;
}

/** berthd itself; for dockerd also containerd and the shims started for its directory */
async function enginePids(engine: Engine): Promise<number[]> {
  const pids = [engine.pid];
  if (engine.marker === undefined) return pids;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === engine.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('containerd') && cmdline.includes(engine.marker)) pids.push(Number(entry));
  }
  return pids;
}

async function engineCpuMs(engine: Engine): Promise<number> {
  let total = 0;
  for (const pid of await enginePids(engine)) total += await cpuMs(pid);
  return total;
}

async function measure(engine: Engine): Promise<Result> {
  const ids: string[] = [];
  for (let i = 0; i < CONTAINERS; i++) {
    ids.push(await docker(engine, ['run', '-d', '--network', 'none', '--health-cmd', 'true', '--health-interval', '500ms', 'busybox', 'sleep', '600']));
  }
  // the execs' events are the exact count of probes run in the window
  const since = Math.floor(Date.now() / 1000) + 2;
  await new Promise((r) => setTimeout(r, (since - Date.now() / 1000) * 1000));
  const cpuBefore = await engineCpuMs(engine);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const cpuAfter = await engineCpuMs(engine);
  const until = Math.ceil(Date.now() / 1000);
  const events = await docker(engine, ['events', '--since', String(since), '--until', String(until), '--filter', 'event=exec_die', '--format', '{{.ID}}']);
  const probes = events.split('\n').filter(Boolean).length;
  const inspected = JSON.parse(await docker(engine, ['inspect', ...ids])) as Array<{ State: { Health?: { Log: Array<{ Start: string; End: string }> | null } } }>;
  const durations = inspected.flatMap((c) => (c.State.Health?.Log ?? []).map((e) => Date.parse(e.End) - Date.parse(e.Start)));
  await docker(engine, ['rm', '-f', ...ids]);
  const result = { medianMs: quantile(durations, 0.5), p90Ms: quantile(durations, 0.9), probes, cpuMsPerProbe: (cpuAfter - cpuBefore) / Math.max(1, probes) };
  console.log(`${engine.name}: ${probes} probes in ${WINDOW_S}s for ${CONTAINERS} containers; probe duration median ${result.medianMs.toFixed(0)} ms,`
    + ` p90 ${result.p90Ms.toFixed(0)} ms; engine CPU ${result.cpuMsPerProbe.toFixed(1)} ms per probe`);
  return result;
}

const d = await startBerthd();
const dockerDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-health-'));
let dockerd: Awaited<ReturnType<typeof startDockerd>>;
try {
  await importBusybox(d);
  const berth: Engine = { name: 'berthd', env: d.env, pid: d.process.pid ?? 0 };
  dockerd = await startDockerd(dockerDir);
  const mine = await measure(berth);
  const theirs = dockerd ? await measure(dockerd.engine) : undefined;
  if (theirs) {
    console.log(`ratio berthd/dockerd: probe duration ${(mine.medianMs / theirs.medianMs).toFixed(2)} (median), `
      + `engine CPU per probe ${(mine.cpuMsPerProbe / theirs.cpuMsPerProbe).toFixed(2)}, probes run ${(mine.probes / Math.max(1, theirs.probes)).toFixed(2)}`);
  }
} finally {
  await dockerd?.stop();
  await rm(dockerDir, { recursive: true, force: true });
  await stopBerthd(d);
  await cleanupBerthd(d);
  await removeDir(d);
}
