// bench/daemon: berthd against a private dockerd in the same run (dockerd only when installed).
//  - `docker run --rm busybox true`: N sequential and N with 10 in parallel. The daemons take
//    turns in rounds so a change of machine load hits both alike; medians are compared. berthd
//    is measured on its default bridge and with --network none (dockerd runs --bridge=none, so
//    its containers have no network: berthd's none is the like-for-like ratio). A second
//    dockerd runs in a network namespace of its own with its default bridge and iptables rules
//    there (checked: a container gets an address and a default route), so the issue's plain
//    `docker run --rm busybox true` is compared with each engine's default network too; the
//    host's links and nft tables are compared before and after, and no process may be left in
//    that namespace.
//  - memory per idle container: 20 `sleep` containers; daemon RSS growth plus the PSS of every
//    per-container process the engine adds (berth's shim; containerd's shims and containerd).
//  - log throughput: a container writes 200 MB of 100-byte lines to stdout (json-file log).
// BENCH_RUNS sets N (default 50), BENCH_LOG_MB the log volume (default 200).
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { cleanupBerthd, importBusybox, removeDir, startBerthd, stopBerthd } from '../../test/api/harness.js';
import { docker, startDockerd, type Engine } from '../engines.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 50);
const LOG_MB = Number(process.env['BENCH_LOG_MB'] ?? 200);
const IDLE = 20;
const ROUNDS = 5;


const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};


/** per-run ms of `count` runs, `parallel` at a time */
async function timeRuns(engine: Engine, extra: string[], count: number, parallel: number): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const started = performance.now();
      await docker(engine, ['run', '--rm', ...extra, 'busybox', 'true']);
      samples.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  // with several in flight the throughput figure is the one that means something
  return parallel === 1 ? samples : [(performance.now() - started) / count];
}

async function runLatency(modes: Array<{ label: string; engine: Engine; extra: string[] }>): Promise<Map<string, { seq: number; par: number }>> {
  const seq = new Map<string, number[]>(modes.map((m) => [m.label, []]));
  const par = new Map<string, number[]>(modes.map((m) => [m.label, []]));
  for (const m of modes) await docker(m.engine, ['run', '--rm', ...m.extra, 'busybox', 'true']); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of modes) seq.get(m.label)?.push(...await timeRuns(m.engine, m.extra, Math.ceil(RUNS / ROUNDS), 1));
    for (const m of modes) par.get(m.label)?.push(...await timeRuns(m.engine, m.extra, Math.ceil(RUNS / ROUNDS), 10));
  }
  const result = new Map<string, { seq: number; par: number }>();
  for (const m of modes) {
    const r = { seq: median(seq.get(m.label) ?? []), par: median(par.get(m.label) ?? []) };
    result.set(m.label, r);
    console.log(`${m.label}: run --rm true ${r.seq.toFixed(1)} ms sequential (median), ${r.par.toFixed(1)} ms per run with 10 in parallel`);
  }
  return result;
}

/**
 * The docker CLI's own share of a run, measured two ways. Both engines get the same requests
 * from `docker run --rm` (checked with strace of the CLI): HEAD /_ping, POST create, POST attach
 * (hijacked, 101), POST wait?condition=removed (the CLI waits for its headers before it starts
 * the container) and POST start, on the API version each reports (1.50, the CLI's newest, with
 * berthd; 1.41 with Debian's dockerd 20.10): no extra round trip on either side.
 * `docker version` is _ping + GET /version, but dockerd's /version asks containerd and runc for
 * their versions (~25-45 ms here), so it charges dockerd's floor with daemon time;
 * `docker ps -q` (_ping + GET /containers/json, no containers left) is trivial for both and is
 * the floor subtracted below.
 */
async function cliFloor(engine: Engine, count: number, args: string[]): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await docker(engine, args);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

async function statusKb(pid: number, field: string, file = 'status'): Promise<number> {
  const text = await readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

async function processes(): Promise<Array<{ pid: number; ppid: number; comm: string }>> {
  const list: Array<{ pid: number; ppid: number; comm: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const match = /^(\d+) \((.*)\) \S+ (\d+)/.exec(stat);
    if (match) list.push({ pid: Number(match[1]), comm: match[2] ?? '', ppid: Number(match[3]) });
  }
  return list;
}

/**
 * The engine's per-container processes: berthd's are its direct children (one shim per
 * container; the container's own processes are below them). containerd and its shims
 * daemonize away from dockerd: they are found by the engine's directory in their command line.
 */
async function helperProcesses(engine: Engine): Promise<number[]> {
  const all = await processes();
  if (engine.marker === undefined) return all.filter((p) => p.ppid === engine.pid).map((p) => p.pid);
  const found: number[] = [];
  for (const p of all) {
    if (p.pid === engine.pid || !p.comm.startsWith('containerd')) continue;
    const cmdline = await readFile(`/proc/${p.pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(engine.marker)) found.push(p.pid);
  }
  return found;
}

async function footprintKb(engine: Engine): Promise<{ daemonRss: number; helpersPss: number; helpers: number }> {
  const pids = await helperProcesses(engine);
  let helpersPss = 0;
  for (const pid of pids) helpersPss += await statusKb(pid, 'Pss', 'smaps_rollup');
  return { daemonRss: await statusKb(engine.pid, 'VmRSS'), helpersPss, helpers: pids.length };
}

async function idleMemory(engine: Engine): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  const before = await footprintKb(engine);
  const ids: string[] = [];
  for (let i = 0; i < IDLE; i++) ids.push(await docker(engine, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '600']));
  await new Promise((r) => setTimeout(r, 2000));
  const after = await footprintKb(engine);
  await docker(engine, ['rm', '-f', ...ids]);
  const perContainer = (after.daemonRss - before.daemonRss + after.helpersPss - before.helpersPss) / IDLE;
  console.log(`${engine.name}: ${perContainer.toFixed(0)} KiB per idle container (daemon RSS +${((after.daemonRss - before.daemonRss) / IDLE).toFixed(0)} KiB,`
    + ` per-container processes PSS +${((after.helpersPss - before.helpersPss) / IDLE).toFixed(0)} KiB; ${after.helpers - before.helpers} new engine processes for ${IDLE} containers)`);
  return perContainer;
}

async function logThroughput(engine: Engine): Promise<number> {
  const bytes = LOG_MB * 1_000_000;
  // 1 MB of 100-byte lines made once, then written in large chunks: the engine, not the
  // producer, should be what limits the rate
  const script = `yes 'berth log bench line of one hundred bytes ...................................................' | head -c 1000000 > /tmp/chunk; `
    + `i=0; while [ $i -lt ${Math.ceil(bytes / 1_000_000)} ]; do cat /tmp/chunk; i=$((i+1)); done`;
  const started = performance.now();
  const id = await docker(engine, ['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', script]);
  await docker(engine, ['wait', id]);
  const seconds = (performance.now() - started) / 1000;
  const logPath = await docker(engine, ['inspect', '--format', '{{.LogPath}}', id]);
  const tail = await docker(engine, ['logs', '--tail', '1', id]);
  await docker(engine, ['rm', '-f', id]);
  const mbps = LOG_MB / seconds;
  console.log(`${engine.name}: ${LOG_MB} MB to stdout logged in ${seconds.toFixed(2)} s = ${mbps.toFixed(0)} MB/s (log ${logPath ? 'at ' + path.basename(logPath) : 'path unknown'}, last line ${tail.length} bytes)`);
  return mbps;
}

const run = promisify(execFile);

/**
 * The host's links and nft tables: the dockerd in its own network namespace must not change
 * them (berth's own, bb*, bv* and berth* links and tables, are berthd's to clean up).
 */
async function hostNetwork(): Promise<string> {
  const berths = /^(bb|bv|berth)/;
  const links = (await run('ip', ['-o', 'link', 'show']).catch(() => ({ stdout: '' }))).stdout.split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '').filter((name) => name !== '' && !berths.test(name));
  const tables = (await run('nft', ['list', 'tables']).catch(() => ({ stdout: '' }))).stdout.split('\n')
    .filter((line) => line.trim() !== '' && !line.includes('berth'));
  return `links: ${links.sort().join(' ')}; tables: ${tables.join(', ')}`;
}

/** A container on the namespaced dockerd's default bridge has an address and a default route. */
async function checkBridge(engine: Engine): Promise<boolean> {
  const seen = await docker(engine, ['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route']).catch((err: unknown) => String(err));
  const ok = /inet \d+\.\d+\.\d+\.\d+\//.test(seen) && /^default via /m.test(seen);
  console.log(`dockerd in its own network namespace: a container on its default bridge ${ok ? 'has' : 'LACKS'} an address and a default route`
    + `${ok ? ` (${/inet (\S+)/.exec(seen)?.[1] ?? '?'}, ${/^default via (\S+)/m.exec(seen)?.[1] ?? '?'})` : `: ${seen.trim()}`}`);
  return ok;
}

/** After the namespaced dockerd stopped: nothing left in its namespace, the host's links and tables as before. */
async function reportNetnsLeaks(netns: string | undefined, before: string): Promise<void> {
  const left: string[] = [];
  if (netns !== undefined) {
    for (const entry of await readdir('/proc')) {
      if (/^\d+$/.test(entry) && await readlink(`/proc/${entry}/ns/net`).catch(() => '') === netns) left.push(`process ${entry}`);
    }
  }
  const after = await hostNetwork();
  if (after !== before) left.push(`host links/nft tables changed:\n${before}\n->\n${after}`);
  console.log(left.length === 0 ? 'own-netns dockerd: nothing left (no process in its namespace, host links and nft tables unchanged)'
    : `own-netns dockerd LEFT: ${left.join('; ')}`);
}

const d = await startBerthd(undefined, ['--log-level', 'info']);
// the daemons log at their default level (info) as dockerd does: berthd's debug lines (30 a run) are for bench/daemon/phases
const dockerDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-dockerd-'));
const netnsDockerDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-netns-dockerd-'));
const hostBefore = await hostNetwork();
let dockerd: Awaited<ReturnType<typeof startDockerd>>;
let netnsDockerd: Awaited<ReturnType<typeof startDockerd>>;
let netnsOfDockerd: string | undefined;
try {
  await importBusybox(d);
  const berth: Engine = { name: 'berthd', env: d.env, pid: d.process.pid ?? 0 };
  dockerd = await startDockerd(dockerDir);
  netnsDockerd = await startDockerd(netnsDockerDir, { ownNetwork: true });
  netnsOfDockerd = netnsDockerd ? await readlink(`/proc/${netnsDockerd.engine.pid}/ns/net`).catch(() => undefined) : undefined;
  const bridged = netnsDockerd ? await checkBridge(netnsDockerd.engine) : false;
  const modes = [{ label: 'berthd bridge', engine: berth, extra: [] }, { label: 'berthd none', engine: berth, extra: ['--network', 'none'] }];
  if (dockerd) modes.push({ label: 'dockerd (no bridge)', engine: dockerd.engine, extra: [] });
  if (netnsDockerd && bridged) modes.push({ label: 'dockerd (default bridge, own netns)', engine: netnsDockerd.engine, extra: [] });
  const latency = await runLatency(modes);
  const bridge = latency.get('berthd bridge');
  const none = latency.get('berthd none');
  const other = latency.get('dockerd (no bridge)');
  const otherBridged = latency.get('dockerd (default bridge, own netns)');
  if (bridge && none) console.log(`berthd bridge/none: ${(bridge.seq / none.seq).toFixed(2)} sequential, ${(bridge.par / none.par).toFixed(2)} parallel (issue 6 target <= 1.5)`);
  if (none && other) {
    console.log(`ratio berthd/dockerd (both without a network): ${(none.seq / other.seq).toFixed(2)} sequential, ${(none.par / other.par).toFixed(2)} parallel (target <= 0.25)`);
  }
  if (bridge && otherBridged) {
    console.log(`ratio berthd/dockerd (each on its default bridge; plain docker run --rm busybox true): ${(bridge.seq / otherBridged.seq).toFixed(2)} sequential,`
      + ` ${(bridge.par / otherBridged.par).toFixed(2)} parallel (target <= 0.25)`);
  }
  if (none) {
    const count = Math.max(5, Math.ceil(RUNS / 2));
    const floors = async (engine: Engine): Promise<{ version: number; ps: number }> =>
      ({ version: await cliFloor(engine, count, ['version']), ps: await cliFloor(engine, count, ['ps', '-q']) });
    const floor = await floors(berth);
    const otherFloor = dockerd && other ? await floors(dockerd.engine) : undefined;
    console.log(`docker CLI floor: docker ps -q ${floor.ps.toFixed(1)} ms against berthd${otherFloor === undefined ? '' : `, ${otherFloor.ps.toFixed(1)} ms against dockerd`}`
      + ` (docker version ${floor.version.toFixed(1)}${otherFloor === undefined ? '' : ` / ${otherFloor.version.toFixed(1)}`} ms: dockerd's /version asks containerd and runc);`
      + ` daemon side of run --rm (run - ps floor): berthd none ${(none.seq - floor.ps).toFixed(1)} ms`
      + `${other && otherFloor !== undefined ? `, dockerd ${(other.seq - otherFloor.ps).toFixed(1)} ms` : ''}`);
  }
  if (bridge && other) console.log(`ratio berthd on its bridge/dockerd without one: ${(bridge.seq / other.seq).toFixed(2)} sequential, ${(bridge.par / other.par).toFixed(2)} parallel`);
  const berthMem = await idleMemory(berth);
  const dockerMem = dockerd ? await idleMemory(dockerd.engine) : undefined;
  console.log(`memory per idle container: berthd ${berthMem.toFixed(0)} KiB (target < 1024)${dockerMem === undefined ? '' : `, dockerd ${dockerMem.toFixed(0)} KiB`}`);
  const berthLog = await logThroughput(berth);
  const dockerLog = dockerd ? await logThroughput(dockerd.engine) : undefined;
  if (dockerLog !== undefined) console.log(`log throughput berthd/dockerd: ${(berthLog / dockerLog).toFixed(2)} (target >= 1)`);
} finally {
  await dockerd?.stop();
  await netnsDockerd?.stop();
  await reportNetnsLeaks(netnsOfDockerd, hostBefore);
  await rm(dockerDir, { recursive: true, force: true });
  await rm(netnsDockerDir, { recursive: true, force: true });
  await stopBerthd(d);
  await cleanupBerthd(d);
  await removeDir(d);
}
