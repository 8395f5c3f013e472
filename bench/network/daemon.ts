// A private berthd for the network bench (own data/exec roots, socket, cgroup parent) with a
// busybox image. stop() removes its containers, stops it (SIGKILL if it hangs), then deletes
// what berthd leaves by design (the default bridge, as docker0 outlives dockerd, and its nft
// table) and reports anything of its instance still on the host.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { instanceFromDataRoot, instanceNames } from '../../src/network/names.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FROM_DIST = here.includes(`${path.sep}dist${path.sep}`);
const REPO_ROOT = path.resolve(here, FROM_DIST ? '../../..' : '../..');

export interface DaemonBench {
  docker(args: string[]): string;
  image: string;
  /** returns what of the instance is left on the host (empty when clean) */
  stop(): Promise<string[]>;
}

/** Links and nft tables of a berthd instance still on the host. */
export function leftoversOf(dataRoot: string): string[] {
  const names = instanceNames(instanceFromDataRoot(path.resolve(dataRoot)));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(names.bridgePrefix) || n.startsWith(names.vethPrefix));
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(` ${names.table}\n`) ? [`nft table ${names.table}`] : [];
  return [...links.map((l) => `link ${l}`), ...tables];
}

export async function startDaemonForBench(rootfsTar: (dir: string) => Promise<string>): Promise<DaemonBench> {
  const tok = randomBytes(3).toString('hex');
  const root = `/tmp/berth-netbench-${tok}`;
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'none.json'), '{}\n');
  const socket = path.join(root, 'd.sock');
  const dataRoot = path.join(root, 'data');
  const execRoot = path.join(root, 'exec');
  const argv = FROM_DIST
    ? [path.join(REPO_ROOT, 'dist/src/berthd/main.js')]
    : ['--import', 'tsx', path.join(REPO_ROOT, 'src/berthd/main.ts')];
  const daemon: ChildProcess = spawn(process.execPath, [...argv, '--data-root', dataRoot, '--exec-root', execRoot,
    '-H', `unix://${socket}`, '--cgroup-parent', `/berth-netbench-${tok}`, '--config-file', path.join(root, 'none.json')],
  { stdio: 'ignore', cwd: REPO_ROOT });
  const docker = (args: string[]): string => execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, encoding: 'utf8' });
  const stop = async (): Promise<string[]> => {
    try {
      const ids = docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '-f', ...ids]);
    } catch { /* the daemon may be gone already */ }
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000, undefined, { ref: false })]);
      if (daemon.exitCode === null && daemon.signalCode === null) {
        daemon.kill('SIGKILL');
        await exited;
      }
    }
    const leftovers = new NetworksService({ dataRoot, execRoot });
    await leftovers.start([]);
    await leftovers.teardown();
    await leftovers.close();
    await rm(root, { recursive: true, force: true });
    return leftoversOf(dataRoot);
  };
  try {
    for (let i = 0; i < 300 && !existsSync(socket); i++) {
      if (daemon.exitCode !== null) throw new Error(`berthd exited (${daemon.exitCode}) at startup`);
      await sleep(100);
    }
    const image = `berth-netbench-${tok}:latest`;
    docker(['import', '-c', 'CMD ["/bin/sh"]', await rootfsTar(root), image]);
    return { docker, image, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function timeRuns(docker: (args: string[]) => string, image: string, network: string, rounds: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) docker(['run', '--rm', '--network', network, image, 'true']);
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}
