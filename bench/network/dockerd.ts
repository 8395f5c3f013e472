// A private dockerd for the network bench: its own data/exec roots and socket, and a bridge the
// bench makes ("berthd<token>", a free 10.x.y.0/24) so it can publish ports without touching the
// host's firewall: --iptables=false, so its published ports go through docker-proxy (the
// userland proxy), which is how dockerd serves 127.0.0.1 when it may not write NAT rules.
// stop() removes the containers, the daemon, the bridge and every mount left under its dir.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface BenchDockerd {
  docker(args: string[]): string;
  bridge: string;
  stop(): Promise<void>;
}

function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const prefix = `10.${randomInt(100, 250)}.${randomInt(0, 255)}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 for the bench bridge');
}

export async function startBenchDockerd(): Promise<BenchDockerd> {
  const dir = mkdtempSync('/tmp/berth-netbench-dockerd-');
  const bridge = `berthd${randomBytes(3).toString('hex')}`;
  const prefix = freeSubnet();
  execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  let child: ChildProcess | undefined;
  const removeBridge = (): void => { try { execFileSync('ip', ['link', 'del', bridge]); } catch { /* already gone */ } };
  const host = `unix://${dir}/d.sock`;
  const docker = (args: string[]): string => execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async (): Promise<void> => {
    try {
      const ids = docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '-f', ...ids]);
    } catch { /* the daemon may be gone already */ }
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000, undefined, { ref: false })]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    removeBridge();
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
    for (const m of mounts.reverse()) {
      try { execFileSync('umount', ['-l', m.split(' ')[4] ?? '']); } catch { /* already gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
    child = spawn('dockerd', [
      '--data-root', `${dir}/data`, '--exec-root', `${dir}/x`, '-H', host, '--pidfile', `${dir}/d.pid`,
      `--bridge=${bridge}`, '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false',
      '--userland-proxy=true', '--storage-driver=overlay2',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
    for (let i = 0; ; i++) {
      try {
        docker(['version', '--format', '{{.Server.Version}}']);
        break;
      } catch (err) {
        if (i > 120 || child.exitCode !== null) throw new Error(`dockerd did not start: ${log}`, { cause: err });
        await sleep(250);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { docker, bridge, stop };
}
