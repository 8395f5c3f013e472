// bench/services: how long after a host reboot until every `--restart always` container runs
// again. 50 busybox `sleep` containers on berthd and on a private dockerd (own data-root,
// exec-root, socket, pidfile and cgroup parent, --bridge=none --iptables=false; busybox loaded
// with `docker load` of a `berth save`). The reboot is simulated the same way for both:
// kill -9 the daemon, SIGKILL every container process (and dockerd's containerd and shims),
// unmount everything under the daemon's directory, empty its exec-root (/run is a tmpfs). Measured: from the daemon's spawn to the
// moment `docker ps` lists all 50 running. Both use --network none (dockerd has no bridge).
// BENCH_SERVICES_N sets the container count (default 50), BENCH_SERVICES_ROUNDS the rounds (default 2).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { cleanupBerthd, importBusybox, removeDir, startBerthd, stopBerthd, type Berthd } from '../../test/api/harness.js';

const run = promisify(execFile);
const COUNT = Number(process.env['BENCH_SERVICES_N'] ?? 50);
const ROUNDS = Number(process.env['BENCH_SERVICES_ROUNDS'] ?? 2);

interface Engine {
  name: string;
  env: NodeJS.ProcessEnv;
  /** the daemon's own directory (data-root, exec-root, socket live below it) */
  dir: string;
  cgroupParent: string;
}

const docker = async (engine: Engine, args: string[]): Promise<string> =>
  (await run('docker', args, { env: engine.env, maxBuffer: 8 << 20 })).stdout.trim();

async function runningCount(engine: Engine): Promise<number> {
  const out = await docker(engine, ['ps', '-q', '--filter', 'status=running']).catch(() => '');
  return out.split('\n').filter(Boolean).length;
}

async function createServices(engine: Engine): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < COUNT) {
      next++;
      await docker(engine, ['run', '-d', '--restart', 'always', '--network', 'none', 'busybox', 'sleep', '1000000']);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** SIGKILL every process of the engine: in its cgroups, or naming its directory (containerd, shims). */
async function killEverything(engine: Engine): Promise<number> {
  let killed = 0;
  const kill = (pid: number): void => {
    try { process.kill(pid, 'SIGKILL'); killed++; } catch { /* gone */ }
  };
  const base = path.join('/sys/fs/cgroup/pids', engine.cgroupParent);
  for (const child of await readdir(base).catch(() => [] as string[])) {
    const procs = await readFile(path.join(base, child, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) kill(Number(pid));
  }
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(engine.dir)) kill(Number(entry));
  }
  return killed;
}

async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = mountinfo.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${dir}/`));
  for (const mount of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', mount]).catch(() => undefined);
}

/** ms from `started` until all COUNT containers run (polled every 100 ms) */
async function untilAllRunning(engine: Engine, started: number): Promise<number> {
  for (let i = 0; i < 3000; i++) {
    if (await runningCount(engine) >= COUNT) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${engine.name}: only ${await runningCount(engine)} of ${COUNT} running after 5 minutes`);
}

function dockerdArgs(dir: string, cgroupParent: string): string[] {
  return ['--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '-H', `unix://${path.join(dir, 'docker.sock')}`,
    '--pidfile', path.join(dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--cgroup-parent', cgroupParent];
}

async function waitForApi(engine: Engine, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${engine.name} exited at startup`);
    if (await docker(engine, ['version']).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${engine.name} did not answer`);
}

class PrivateDockerd {
  readonly engine: Engine;
  private child: ChildProcess | undefined;

  constructor(readonly dir: string) {
    const cgroupParent = `/berth-bench-dockerd-${randomBytes(3).toString('hex')}`;
    this.engine = { name: 'dockerd', dir, cgroupParent, env: { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'docker.sock')}` } };
  }

  /** spawn and wait for the API; returns the spawn time */
  async start(): Promise<number> {
    const started = performance.now();
    const log = openSync(path.join(this.dir, 'dockerd.log'), 'a');
    this.child = spawn('dockerd', dockerdArgs(this.dir, this.engine.cgroupParent), { stdio: ['ignore', log, log] });
    closeSync(log);
    await waitForApi(this.engine, this.child).catch(async (err: unknown) => {
      throw new Error(`${String(err)}:\n${(await readFile(path.join(this.dir, 'dockerd.log'), 'utf8')).slice(-1500)}`);
    });
    return started;
  }

  async crash(): Promise<void> {
    const exited = new Promise((r) => this.child?.once('exit', r));
    this.child?.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child?.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function rebootBerthd(daemon: Berthd, engine: Engine): Promise<{ daemon: Berthd; ms: number }> {
  await stopBerthd(daemon, 'SIGKILL');
  await killEverything(engine);
  await unmountUnder(daemon.dir);
  // /run is a tmpfs: a reboot leaves no runtime state
  await rm(daemon.execRoot, { recursive: true, force: true });
  const started = performance.now();
  const next = await startBerthd({ dir: daemon.dir, token: daemon.token });
  return { daemon: next, ms: await untilAllRunning(engine, started) };
}

async function rebootDockerd(dockerd: PrivateDockerd): Promise<number> {
  await dockerd.crash();
  await killEverything(dockerd.engine);
  await unmountUnder(dockerd.dir);
  await rm(path.join(dockerd.dir, 'exec'), { recursive: true, force: true });
  const started = await dockerd.start();
  return await untilAllRunning(dockerd.engine, started);
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

let berthd = await startBerthd();
const berthEngine = (): Engine => ({ name: 'berthd', env: berthd.env, dir: berthd.dir, cgroupParent: berthd.cgroupParent });
const dockerDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-svc-dockerd-'));
const hasDockerd = existsSync('/usr/sbin/dockerd') || existsSync('/usr/bin/dockerd');
const dockerd = hasDockerd ? new PrivateDockerd(dockerDir) : undefined;
try {
  await importBusybox(berthd);
  await createServices(berthEngine());
  if (dockerd) {
    await dockerd.start();
    const archive = path.join(dockerDir, 'busybox.tar');
    await docker(berthEngine(), ['save', '-o', archive, 'busybox:latest']);
    await docker(dockerd.engine, ['load', '-i', archive]);
    await createServices(dockerd.engine);
  }
  const times = { berthd: [] as number[], dockerd: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const rebooted = await rebootBerthd(berthd, berthEngine());
    berthd = rebooted.daemon;
    times.berthd.push(rebooted.ms);
    console.log(`round ${round + 1}: berthd ${rebooted.ms.toFixed(0)} ms from start to ${COUNT} restart-always containers running`);
    if (dockerd) {
      const ms = await rebootDockerd(dockerd);
      times.dockerd.push(ms);
      console.log(`round ${round + 1}: dockerd ${ms.toFixed(0)} ms from start to ${COUNT} restart-always containers running`);
    }
  }
  const b = median(times.berthd);
  console.log(`berthd: median ${b.toFixed(0)} ms to bring ${COUNT} containers back after a simulated reboot`);
  if (dockerd) {
    const d = median(times.dockerd);
    console.log(`dockerd: median ${d.toFixed(0)} ms; ratio berthd/dockerd ${(b / d).toFixed(2)} (target <= 0.5)`);
  }
} finally {
  const ids = (await docker(berthEngine(), ['ps', '-aq']).catch(() => '')).split('\n').filter(Boolean);
  if (ids.length > 0) await docker(berthEngine(), ['rm', '-f', ...ids]).catch(() => undefined);
  await stopBerthd(berthd);
  await cleanupBerthd(berthd);
  await removeDir(berthd);
  if (dockerd) {
    const dockerIds = (await docker(dockerd.engine, ['ps', '-aq']).catch(() => '')).split('\n').filter(Boolean);
    if (dockerIds.length > 0) await docker(dockerd.engine, ['rm', '-f', ...dockerIds]).catch(() => undefined);
    await dockerd.stop();
    await killEverything(dockerd.engine);
    await unmountUnder(dockerDir);
    // containers killed by a round whose daemon never came back leave their groups: children first
    for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      const parent = path.join('/sys/fs/cgroup', controller, dockerd.engine.cgroupParent);
      for (const child of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
        if (child.isDirectory()) await run('rmdir', [path.join(parent, child.name)]).catch(() => undefined);
      }
      await run('rmdir', [parent]).catch(() => undefined);
    }
  }
  await rm(dockerDir, { recursive: true, force: true });
}
