// Network benchmarks through berthd and the docker CLI: `run --rm IMAGE true` on the default
// bridge against --network none, and busybox httpd through -p against the container address.
// dockerd is not compared: its published ports need its own iptables rules on this host, which
// berth's test rules forbid (dockerd runs here only with --bridge=none --iptables=false).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetworksService } from '../../src/daemon/networks/service.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FROM_DIST = here.includes(`${path.sep}dist${path.sep}`);
const REPO_ROOT = path.resolve(here, FROM_DIST ? '../../..' : '../..');

export interface DaemonBench {
  docker(args: string[]): string;
  image: string;
  stop(): Promise<void>;
}

export async function startDaemonForBench(rootfsTar: (dir: string) => Promise<string>): Promise<DaemonBench> {
  const tok = randomBytes(3).toString('hex');
  const root = `/tmp/berth-netbench-${tok}`;
  await mkdir(root, { recursive: true });
  const socket = path.join(root, 'd.sock');
  const argv = FROM_DIST
    ? [path.join(REPO_ROOT, 'dist/src/berthd/main.js')]
    : ['--import', 'tsx', path.join(REPO_ROOT, 'src/berthd/main.ts')];
  const daemon: ChildProcess = spawn(process.execPath, [...argv, '--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'),
    '-H', `unix://${socket}`, '--cgroup-parent', `/berth-netbench-${tok}`], { stdio: 'ignore', cwd: REPO_ROOT });
  for (let i = 0; i < 300 && !existsSync(socket); i++) await sleep(100);
  const docker = (args: string[]): string => execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, encoding: 'utf8' });
  const image = `berth-netbench-${tok}:latest`;
  docker(['import', '-c', 'CMD ["/bin/sh"]', await rootfsTar(root), image]);
  return {
    docker, image,
    stop: async () => {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      const leftovers = new NetworksService({ dataRoot: path.join(root, 'data'), execRoot: path.join(root, 'exec') });
      await leftovers.start([]);
      await leftovers.teardown();
      await leftovers.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function timeRuns(bench: DaemonBench, network: string, rounds: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) bench.docker(['run', '--rm', '--network', network, bench.image, 'true']);
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}
