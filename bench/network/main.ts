// Network benchmarks at the networks-service level (root):
//  1. sandbox setup + teardown on the default bridge (netns, veth, IPAM, DNAT, port) against a
//     --network none sandbox (netns only);
//  2. requests per second of busybox httpd in a sandbox through the published port on 127.0.0.1
//     against the container address directly (target: published >= 90% of direct).
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { makeBusyboxRootfs } from '../../test/support/busybox-rootfs.js';
import { startDaemonForBench, timeRuns } from './daemon.js';

const ROUNDS = Number(process.env.BERTH_BENCH_ROUNDS ?? 20);
const SECONDS = Number(process.env.BERTH_BENCH_SECONDS ?? 3);
const CONCURRENCY = 8;

async function timeSandboxes(service: NetworksService, prefix: string, networkMode: string, ports: boolean): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    const id = `${prefix}${i}`;
    await service.createSandbox(id, {
      name: id, hostname: id, networkMode,
      ...(ports ? { portBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } } : {}),
    });
    await service.destroySandbox(id);
  }
  return Number(process.hrtime.bigint() - start) / 1e6 / ROUNDS;
}

/** closed-loop load: CONCURRENCY workers doing GET / (new connection each, as httpd closes) */
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

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('bench/network: skipped (requires root)');
    return;
  }
  const instance = `b${randomBytes(2).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-bench-${instance}-`));
  const service = new NetworksService({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance });
  await service.start([]);
  try {
    const noneMs = await timeSandboxes(service, `bn${instance}`, 'none', false);
    const bridgeMs = await timeSandboxes(service, `bb${instance}`, 'bridge', false);
    const portMs = await timeSandboxes(service, `bp${instance}`, 'bridge', true);
    console.log(`sandbox create+destroy: none ${noneMs.toFixed(1)} ms, bridge ${bridgeMs.toFixed(1)} ms (x${(bridgeMs / noneMs).toFixed(2)}), `
      + `bridge + published port ${portMs.toFixed(1)} ms (x${(portMs / noneMs).toFixed(2)})`);

    const www = path.join(dir, 'www');
    await mkdir(www);
    await writeFile(path.join(www, 'index.html'), 'hello from berth\n');
    const id = `h${instance}`;
    const info = await service.createSandbox(id, {
      name: 'httpd', hostname: 'httpd', networkMode: 'bridge', portBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] },
    });
    const httpd = spawn('nsenter', [`--net=${info.netnsPath ?? ''}`, 'busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const hostPort = Number(info.settings.Ports['80/tcp']?.[0]?.HostPort);
      const direct = await requestsPerSecond(info.settings.IPAddress, 80);
      const published = await requestsPerSecond('127.0.0.1', hostPort);
      console.log(`busybox httpd req/s: direct ${direct.toFixed(0)}, published 127.0.0.1:${hostPort} ${published.toFixed(0)} (${(100 * published / direct).toFixed(0)}% of direct)`);
    } finally {
      httpd.kill('SIGKILL');
      await service.destroySandbox(id);
    }
  } finally {
    await service.teardown();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function hasDocker(): boolean {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Through berthd: run --rm true on bridge vs none; httpd through -p vs the container address. */
async function throughDaemon(): Promise<void> {
  if (process.getuid?.() !== 0 || !hasDocker()) {
    console.log('bench/network daemon part: skipped (requires root and the docker CLI)');
    return;
  }
  const bench = await startDaemonForBench(async (root) => {
    await makeBusyboxRootfs(path.join(root, 'rootfs'), { probe: false });
    execFileSync('tar', ['-C', path.join(root, 'rootfs'), '-cf', path.join(root, 'rootfs.tar'), '.']);
    return path.join(root, 'rootfs.tar');
  });
  try {
    bench.docker(['run', '--rm', bench.image, 'true']);
    const rounds = Math.max(3, Math.floor(ROUNDS / 2));
    const noneMs = timeRuns(bench, 'none', rounds);
    const bridgeMs = timeRuns(bench, 'bridge', rounds);
    console.log(`run --rm true via berthd: --network none ${noneMs.toFixed(0)} ms, bridge ${bridgeMs.toFixed(0)} ms (x${(bridgeMs / noneMs).toFixed(2)}, target <= 1.5)`);
    const id = bench.docker(['run', '-d', '-p', '80', bench.image, 'sh', '-c',
      'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www']).trim();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const hostPort = Number(/:(\d+)\s*$/m.exec(bench.docker(['port', id, '80/tcp']))?.[1]);
      const ip = bench.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id]).trim();
      const direct = await requestsPerSecond(ip, 80);
      const published = await requestsPerSecond('127.0.0.1', hostPort);
      console.log(`httpd container req/s via berthd: direct ${direct.toFixed(0)}, published ${published.toFixed(0)} (${(100 * published / direct).toFixed(0)}% of direct, target >= 90%)`);
    } finally {
      bench.docker(['rm', '-f', id]);
    }
  } finally {
    await bench.stop();
  }
}

await main();
await throughDaemon();
