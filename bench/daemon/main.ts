// `docker run --rm busybox true` against berthd and against a private dockerd in the same
// run: N sequential and N with 10 in parallel, plus berthd's memory per idle container.
// BENCH_RUNS sets N (default 50). dockerd is measured only when it is installed.
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../../test/support/busybox-rootfs.js';
import { cleanupBerthd, dockerOk, importBusybox, removeDir, startBerthd, stopBerthd, type Berthd } from '../../test/api/harness.js';

const run = promisify(execFile);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 50);

async function timeRuns(env: NodeJS.ProcessEnv, runs: number, parallel: number): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs) {
      next++;
      await run('docker', ['run', '--rm', 'busybox', 'true'], { env });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return Number(process.hrtime.bigint() - started) / 1e6 / runs;
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

async function startDockerd(dir: string): Promise<{ env: NodeJS.ProcessEnv; stop(): Promise<void> } | undefined> {
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) return undefined;
  const socket = path.join(dir, 'docker.sock');
  const child = spawn('dockerd', ['--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '-H', `unix://${socket}`,
    '--pidfile', path.join(dir, 'docker.pid'), '--bridge=none', '--iptables=false'], { stdio: 'ignore' });
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  for (let i = 0; i < 120; i++) {
    if (await run('docker', ['version'], { env }).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    env,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function measure(name: string, env: NodeJS.ProcessEnv): Promise<{ seq: number; par: number }> {
  await run('docker', ['run', '--rm', 'busybox', 'true'], { env });
  const seq = await timeRuns(env, RUNS, 1);
  const par = await timeRuns(env, RUNS, 10);
  console.log(`${name}: run --rm true ${seq.toFixed(1)} ms sequential, ${par.toFixed(1)} ms per run with 10 in parallel`);
  return { seq, par };
}

async function idleMemory(d: Berthd): Promise<void> {
  const before = await rssKb(d.process.pid ?? 0);
  const count = 10;
  for (let i = 0; i < count; i++) await dockerOk(d, ['run', '-d', '--name', `idle${i}`, 'busybox', 'sleep', '600']);
  const after = await rssKb(d.process.pid ?? 0);
  console.log(`berthd: ${((after - before) / count).toFixed(0)} KiB daemon growth per idle container (no per-container monitor process)`);
  await dockerOk(d, ['rm', '-f', ...Array.from({ length: count }, (_, i) => `idle${i}`)]);
}

const d = await startBerthd();
const dockerDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-dockerd-'));
let dockerd: Awaited<ReturnType<typeof startDockerd>>;
try {
  await importBusybox(d);
  const berth = await measure('berthd', d.env);
  await idleMemory(d);
  dockerd = await startDockerd(dockerDir);
  if (dockerd) {
    const root = await makeBusyboxRootfs(path.join(dockerDir, 'rootfs'), { probe: false });
    await run('sh', ['-c', `tar -C ${root} -c . | docker import - busybox:latest`], { env: dockerd.env });
    const docker = await measure('dockerd', dockerd.env);
    console.log(`ratio berthd/dockerd: ${(berth.seq / docker.seq).toFixed(2)} sequential, ${(berth.par / docker.par).toFixed(2)} parallel (target <= 0.25)`);
  } else {
    console.log('dockerd not installed: no ratio');
  }
} finally {
  await dockerd?.stop();
  await rm(dockerDir, { recursive: true, force: true });
  await stopBerthd(d);
  await cleanupBerthd(d);
  await removeDir(d);
}
