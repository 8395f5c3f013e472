// What the daemon benches share: an engine driven by the docker CLI, and a private dockerd
// (its own data root, exec root, socket and pidfile; no bridge, no iptables) with busybox.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../test/support/busybox-rootfs.js';

const run = promisify(execFile);

/** a daemon the docker CLI talks to; marker names a path its processes hold (to find them) */
export interface Engine { name: string; env: NodeJS.ProcessEnv; pid: number; marker?: string }

export const docker = async (engine: Engine, args: string[]): Promise<string> =>
  (await run('docker', args, { env: engine.env, maxBuffer: 1 << 22 })).stdout.trim();

/**
 * A private dockerd under dir with a busybox:latest imported, or undefined where docker.io is
 * missing. It runs without a bridge or iptables rules, or with ownNetwork in a network
 * namespace of its own (lo up; `unshare --net`, no mount namespace, so it sees the host's
 * cgroups and paths) where its default bridge and iptables rules live: the host's links and
 * firewall are untouched, and the namespace goes with dockerd and its processes.
 */
export async function startDockerd(dir: string, options: { ownNetwork?: boolean } = {}): Promise<{ engine: Engine; stop(): Promise<void> } | undefined> {
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) return undefined;
  const socket = path.join(dir, 'docker.sock');
  const args = ['--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '-H', `unix://${socket}`,
    '--pidfile', path.join(dir, 'docker.pid'), ...(options.ownNetwork === true ? [] : ['--bridge=none', '--iptables=false'])];
  // sh execs dockerd: the child's pid is dockerd's
  const child = options.ownNetwork === true
    ? spawn('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', 'dockerd', ...args], { stdio: 'ignore' })
    : spawn('dockerd', args, { stdio: 'ignore' });
  const engine: Engine = { name: 'dockerd', env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, pid: child.pid ?? 0, marker: dir };
  for (let i = 0; i < 120; i++) {
    if (await docker(engine, ['version']).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const root = await makeBusyboxRootfs(path.join(dir, 'rootfs'), { probe: false });
  await run('sh', ['-c', `tar -C ${root} -c . | docker import - busybox:latest`], { env: engine.env });
  return {
    engine,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
