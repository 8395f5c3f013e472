// Network benchmarks (root). Every line is a ratio measured in the same run:
//  1. networks service: sandbox create+destroy on the default bridge (netns, veth, IPAM, DNAT,
//     port) against a --network none sandbox (netns only);
//  2. through berthd and the docker CLI: `run --rm IMAGE true` on the default bridge against
//     --network none (target: bridge <= 1.5x none);
//  3. busybox httpd in a container, requests per second through berthd's published port on
//     127.0.0.1 (kernel DNAT) against the container address directly (target >= 90%), and against
//     dockerd's published port for the same image (target: above dockerd's). dockerd runs with
//     --iptables=false on a bridge the bench makes, so its port is served by docker-proxy.
// Rounds alternate the paths and medians are reported: the machine is shared and noisy.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { makeBusyboxRootfs } from '../../test/support/busybox-rootfs.js';
import { startDaemonForBench, timeRuns } from './daemon.js';
import { startBenchDockerd } from './dockerd.js';

const ROUNDS = Number(process.env.BERTH_BENCH_ROUNDS ?? 20);
const SECONDS = Number(process.env.BERTH_BENCH_SECONDS ?? 3);
const LOAD_ROUNDS = Number(process.env.BERTH_BENCH_LOAD_ROUNDS ?? 3);
const CONCURRENCY = 8;
const HTTPD = ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface SandboxTimes { total: number; create: number; destroy: number }

/**
 * create+destroy per round, and each apart. destroySandbox returns before the veths are
 * deleted (the next change of the networks waits for that), so the next create carries it.
 */
async function timeSandboxes(service: NetworksService, prefix: string, networkMode: string, ports: boolean): Promise<SandboxTimes> {
  let create = 0;
  let destroy = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    const id = `${prefix}${i}`;
    const t0 = performance.now();
    await service.createSandbox(id, {
      name: id, hostname: id, networkMode,
      ...(ports ? { portBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } } : {}),
    });
    const t1 = performance.now();
    await service.destroySandbox(id);
    create += t1 - t0;
    destroy += performance.now() - t1;
  }
  return { total: Number(process.hrtime.bigint() - start) / 1e6 / ROUNDS, create: create / ROUNDS, destroy: destroy / ROUNDS };
}

function describe(times: SandboxTimes): string {
  return `${times.total.toFixed(1)} ms (create ${times.create.toFixed(1)}, destroy ${times.destroy.toFixed(1)})`;
}

/** closed-loop load: CONCURRENCY workers doing GET / (a new connection each, as httpd closes) */
async function requestsPerSecond(host: string, port: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: false });
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host, port, path: '/', agent }, (res) => { res.resume(); res.on('end', () => resolve()); });
        req.on('error', reject);
      });
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done / SECONDS;
}

async function waitForHttp(host: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      http.get({ host, port, path: '/' }, (res) => { res.resume(); resolve(res.statusCode === 200); }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`httpd at ${host}:${port} did not answer`);
}

/** httpd in a container of a daemon: its address and its published port on 127.0.0.1 */
async function startHttpd(docker: (args: string[]) => string, image: string): Promise<{ id: string; ip: string; port: number }> {
  const id = docker(['run', '-d', '-p', '127.0.0.1::80', image, ...HTTPD]).trim();
  const port = Number(/:(\d+)\s*$/m.exec(docker(['port', id, '80/tcp']))?.[1]);
  const ip = docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id]).trim();
  await waitForHttp(ip, 80);
  await waitForHttp('127.0.0.1', port);
  return { id, ip, port };
}

async function serviceLevel(): Promise<void> {
  const instance = `b${randomBytes(2).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-bench-${instance}-`));
  const service = new NetworksService({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance });
  try {
    await service.start([]);
    const none = await timeSandboxes(service, `bn${instance}`, 'none', false);
    const bridge = await timeSandboxes(service, `bb${instance}`, 'bridge', false);
    const port = await timeSandboxes(service, `bp${instance}`, 'bridge', true);
    console.log(`sandbox create+destroy: none ${describe(none)}, bridge ${describe(bridge)} (x${(bridge.total / none.total).toFixed(2)}), `
      + `bridge + published port ${describe(port)} (x${(port.total / none.total).toFixed(2)})`);
  } finally {
    await service.teardown();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function hasDocker(): boolean {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' });
    execFileSync('sh', ['-c', 'command -v dockerd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function throughDaemons(): Promise<void> {
  let tarball = '';
  const bench = await startDaemonForBench(async (root) => {
    await makeBusyboxRootfs(path.join(root, 'rootfs'), { probe: false });
    tarball = path.join(root, 'rootfs.tar');
    execFileSync('tar', ['-C', path.join(root, 'rootfs'), '-cf', tarball, '.']);
    return tarball;
  });
  const dockerd = await startBenchDockerd().catch((err: unknown) => {
    console.log(`dockerd comparison skipped: ${String(err).slice(0, 300)}`);
    return undefined;
  });
  try {
    bench.docker(['run', '--rm', bench.image, 'true']);
    const rounds = Math.max(3, Math.floor(ROUNDS / 2));
    const none: number[] = [];
    const bridge: number[] = [];
    for (let i = 0; i < 3; i++) {
      none.push(timeRuns(bench.docker, bench.image, 'none', rounds));
      bridge.push(timeRuns(bench.docker, bench.image, 'bridge', rounds));
    }
    console.log(`run --rm true via berthd (medians of 3x${rounds}): --network none ${median(none).toFixed(0)} ms, bridge ${median(bridge).toFixed(0)} ms `
      + `(x${(median(bridge) / median(none)).toFixed(2)}, target <= 1.5)`);

    const ours = await startHttpd(bench.docker, bench.image);
    let theirs: { port: number } | undefined;
    if (dockerd) {
      dockerd.docker(['import', '-c', 'CMD ["/bin/sh"]', tarball, bench.image]);
      theirs = await startHttpd(dockerd.docker, bench.image);
    }
    const direct: number[] = [];
    const published: number[] = [];
    const docker: number[] = [];
    for (let i = 0; i < LOAD_ROUNDS; i++) {
      direct.push(await requestsPerSecond(ours.ip, 80));
      published.push(await requestsPerSecond('127.0.0.1', ours.port));
      if (theirs) docker.push(await requestsPerSecond('127.0.0.1', theirs.port));
    }
    const [d, p, k] = [median(direct), median(published), median(docker)];
    console.log(`busybox httpd req/s (medians of ${LOAD_ROUNDS}x${SECONDS}s, ${CONCURRENCY} clients): berthd direct ${d.toFixed(0)}, `
      + `berthd published ${p.toFixed(0)} (${(100 * p / d).toFixed(0)}% of direct, target >= 90%)`
      + (theirs ? `, dockerd published (docker-proxy) ${k.toFixed(0)} (berthd x${(p / k).toFixed(2)}, target > 1)` : ''));
  } finally {
    await dockerd?.stop();
    const leaks = await bench.stop();
    console.log(leaks.length === 0 ? 'left on the host: nothing' : `LEFT ON THE HOST: ${leaks.join(', ')}`);
  }
}

if (process.getuid?.() !== 0) {
  console.log('bench/network: skipped (requires root)');
} else {
  await serviceLevel();
  if (hasDocker()) await throughDaemons();
  else console.log('bench/network daemon part: skipped (requires the docker CLI and dockerd)');
}
