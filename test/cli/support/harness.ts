// The CLI suite's daemon and runners: a private dockerd (or berthd, or any daemon named
// by BERTH_CLI_TEST_HOST), the berth CLI and the docker CLI pointed at the same socket,
// and a busybox test image. Everything is named berth-cli-<token> so leaks are findable.
import { spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBusyboxRootfs, REPO_ROOT } from '../../support/busybox-rootfs.js';
import { NetworksService } from '../../../src/daemon/networks/service.js';

export interface Result { code: number; stdout: string; stderr: string }

export interface RunOptions { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number }

const FROM_DIST = import.meta.url.includes('/dist/');

/** argv that runs berth: the built launcher from dist, or the sources through tsx. */
export function berthCommand(): string[] {
  if (FROM_DIST) {
    const launcher = path.join(REPO_ROOT, 'dist/cli/launch.cjs');
    return [process.execPath, existsSync(launcher) ? launcher : path.join(REPO_ROOT, 'dist/src/cli/main.js')];
  }
  return [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts')];
}

export async function execFile(file: string, args: string[], options: RunOptions & SpawnOptions = {}): Promise<Result> {
  return await new Promise<Result>((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    // a command that exits before reading its stdin closes the pipe: EPIPE there is not a failure
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

async function ping(socketPath: string): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

/** Verbs whose 404 a docker 20.10 client reports as "Error: No such <object>: <name>". */
const LEGACY_WRAPPED_404: ReadonlySet<string> = new Set(['rm', 'container rm', 'rmi', 'image rm', 'inspect', 'image inspect']);

export class CliTestEnv {
  readonly token = randomBytes(4).toString('hex');
  readonly root = `/tmp/berth-cli-${this.token}`;
  readonly image = `berth-cli-${this.token}:latest`;
  host = '';
  /** The docker CLI's major version (20 for Debian 12's docker.io, 28 for current releases). */
  dockerClientMajor = 0;
  daemonKind: 'dockerd' | 'berthd' | 'external' = 'dockerd';
  private daemon: ReturnType<typeof spawn> | undefined;

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: this.host, BERTH_HOST: this.host, DOCKER_CONFIG: path.join(this.root, 'config'), HOME: this.root };
    delete env.DOCKER_API_VERSION;
    return env;
  }

  async start(options: { image?: boolean } = {}): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const external = process.env.BERTH_CLI_TEST_HOST;
    if (external !== undefined && external !== '') {
      this.daemonKind = 'external';
      this.host = external;
    } else {
      await this.startDaemon(process.env.BERTH_CLI_TEST_DAEMON === 'berthd' ? 'berthd' : 'dockerd');
    }
    const version = await this.docker(['version', '--format', '{{.Client.Version}}']);
    this.dockerClientMajor = Number.parseInt(version.stdout, 10);
    if (options.image !== false) await this.importTestImage();
  }

  /** Docker CLIs before 23 print their own "Error: No such <object>: <id>" for a 404 instead of the daemon's message. */
  get legacyDockerClient(): boolean {
    return this.dockerClientMajor < 23;
  }

  /**
   * berth's stderr for `verb` as the docker CLI in use would print it (berth follows current
   * docker). A 20.10 CLI words a 404 itself for the calls its client wraps (container and
   * image remove and inspect), naming the object as typed; other verbs (kill, stop...) print
   * the daemon's message as current CLIs do.
   */
  asDockerPrints(berthStderr: string, verb: string): string {
    if (!this.legacyDockerClient || !LEGACY_WRAPPED_404.has(verb)) return berthStderr;
    return berthStderr.replace(/^Error response from daemon: (No such (?:container|image): )/gm, 'Error: $1');
  }

  private async startDaemon(kind: 'dockerd' | 'berthd'): Promise<void> {
    this.daemonKind = kind;
    const socket = path.join(this.root, 'daemon.sock');
    this.host = `unix://${socket}`;
    const args = kind === 'dockerd'
      ? ['--data-root', path.join(this.root, 'data'), '--exec-root', path.join(this.root, 'exec'), '-H', this.host,
        '--pidfile', path.join(this.root, 'daemon.pid'), '--bridge=none', '--iptables=false', '--storage-driver', 'vfs']
      : ['--data-root', path.join(this.root, 'data'), '--exec-root', path.join(this.root, 'exec'), '-H', this.host,
        '--pidfile', path.join(this.root, 'daemon.pid'), '--config-file', path.join(this.root, 'daemon.json')];
    if (kind === 'berthd') await writeFile(path.join(this.root, 'daemon.json'), '{}\n');
    const file = kind === 'dockerd' ? 'dockerd' : path.join(REPO_ROOT, 'bin/berthd');
    this.daemon = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
    const log: Buffer[] = [];
    this.daemon.stderr?.on('data', (c: Buffer) => log.push(c));
    for (let i = 0; i < 300; i++) {
      if (this.daemon.exitCode !== null) throw new Error(`${kind} exited early: ${Buffer.concat(log).toString().slice(-2000)}`);
      if (existsSync(socket) && (await ping(socket))) return;
      await sleep(100);
    }
    throw new Error(`${kind} did not answer on ${socket} within 30s`);
  }

  private async importTestImage(): Promise<void> {
    const rootfs = path.join(this.root, 'rootfs');
    await makeBusyboxRootfs(rootfs, { probe: false });
    const tarFile = path.join(this.root, 'rootfs.tar');
    const tarred = await execFile('tar', ['-C', rootfs, '-cf', tarFile, '.']);
    if (tarred.code !== 0) throw new Error(`tar failed: ${tarred.stderr}`);
    const imported = await this.docker(['import', '-c', 'CMD ["/bin/sh"]', tarFile, this.image]);
    if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
  }

  async berth(args: string[], options: RunOptions = {}): Promise<Result> {
    const [node = process.execPath, ...rest] = berthCommand();
    return await execFile(node, [...rest, ...args], { ...options, env: { ...this.env, ...options.env } });
  }

  async docker(args: string[], options: RunOptions = {}): Promise<Result> {
    return await execFile('docker', args, { ...options, env: { ...this.env, ...options.env } });
  }

  /** Run the same command with both CLIs; docker's name in its messages is replaced by berth's. */
  async both(args: string[], options: RunOptions = {}): Promise<{ berth: Result; docker: Result }> {
    const berth = await this.berth(args, options);
    const docker = await this.docker(args, options);
    docker.stderr = docker.stderr.replace(/\bdocker\b/g, 'berth');
    return { berth, docker };
  }

  /** Remove every container and the test images, stop the daemon, remove the state. */
  async stop(): Promise<void> {
    if (this.host !== '') {
      const all = await this.docker(['ps', '-aq', '--filter', `label=berth-cli-test=${this.token}`]);
      const ids = all.stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker(['rm', '-f', ...ids]);
    }
    if (this.daemon !== undefined && this.daemon.exitCode === null) {
      const exited = new Promise((resolve) => this.daemon?.once('exit', resolve));
      this.daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (this.daemon.exitCode === null) this.daemon.kill('SIGKILL');
    }
    if (this.daemonKind === 'berthd') {
      // berthd's default bridge and nft table outlive it, as docker0 does: tear them down
      const networks = new NetworksService({ dataRoot: path.join(this.root, 'data'), execRoot: path.join(this.root, 'exec') });
      await networks.start([]).then(() => networks.teardown()).catch(() => undefined);
      await networks.close().catch(() => undefined);
    }
    await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Mounts whose path names this run: must be none after stop(). */
  async leakedMounts(): Promise<string[]> {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    return mounts.split('\n').filter((line) => line.includes(this.root));
  }

  /** Processes still running from this run's state directories. */
  async leakedProcesses(): Promise<string[]> {
    const ps = await execFile('ps', ['-eo', 'pid,args']);
    return ps.stdout.split('\n').filter((line) => line.includes(this.root) && !line.includes(' ps -eo'));
  }

  /** A label that marks containers of this run, for cleanup. */
  get label(): string[] {
    return ['-l', `berth-cli-test=${this.token}`];
  }
}

/** The first line, with the program name made neutral. */
export function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/\bdocker\b/g, 'berth');
}

/** A table as cells, with relative times ("5 seconds ago", "Up 3 seconds") made clock-independent. */
export function tableCells(out: string): string[][] {
  return out.trim().split('\n').map((line) => line.split(/\s{2,}/).map((cell) => cell
    .replace(/^Up .*/, 'Up')
    .replace(/^(\d+ \w+|Less than a second|About an? \w+) ago$/, 'ago')));
}
