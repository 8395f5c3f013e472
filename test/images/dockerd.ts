// A private dockerd for interop tests: its own data root, exec root, socket and pid file
// under one short temp dir, no bridge, no iptables. Stopped (and checked for leftover
// mounts) by stop().
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PrivateDockerd {
  dir: string;
  host: string;
  docker(args: string[], input?: Buffer): string;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<PrivateDockerd> {
  const dir = mkdtempSync('/tmp/bC-');
  const sock = `${dir}/d.sock`;
  const child: ChildProcess = spawn('dockerd', [
    '--data-root', `${dir}/data`, '--exec-root', `${dir}/x`, '-H', `unix://${sock}`, '--pidfile', `${dir}/d.pid`,
    '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--storage-driver=overlay2',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const host = `unix://${sock}`;
  const docker = (args: string[], input?: Buffer): string =>
    execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
  for (let i = 0; ; i++) {
    try {
      docker(['version', '--format', '{{.Server.Version}}']);
      break;
    } catch (err) {
      if (i > 120 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`dockerd did not start: ${log}`, { cause: err });
      }
      await sleep(250);
    }
  }
  return {
    dir, host, docker,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20000, undefined, { ref: false })]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
      for (const m of mounts.reverse()) {
        try { execFileSync('umount', ['-l', m.split(' ')[4] ?? '']); } catch { /* already gone */ }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
