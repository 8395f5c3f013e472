// A throwaway unprivileged user for rootless berthd tests: useradd with a home, its own
// /etc/subuid and /etc/subgid ranges (the files restored byte for byte afterwards), an
// XDG_RUNTIME_DIR, and berthd started as that user through setpriv.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/busybox-rootfs.js';
import { requires } from '../support/requirements.js';

const run = promisify(execFile);

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** first host id of the user's subordinate range (inside id 1) */
  subidStart: number;
  dir: string;
  runtimeDir: string;
  remove(): Promise<void>;
}

const SUBID_FILES = ['/etc/subuid', '/etc/subgid'] as const;

/** A free range above everything listed (Debian's useradd may have added one for the user already). */
function freeRangeStart(texts: readonly string[]): number {
  let end = 200000;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const [, start, count] = line.trim().split(':');
      if (start !== undefined && count !== undefined) end = Math.max(end, Number(start) + Number(count));
    }
  }
  return Math.ceil(end / 65536) * 65536;
}

/**
 * The subid files with the user's lines replaced by `lines` (none: dropped). Only the user's own
 * lines change, in the file as it is now: restoring a copy saved at the start undid whatever
 * else changed meanwhile (another test user's range stayed behind when two runs overlapped).
 */
async function setSubidLines(name: string, lines: readonly string[]): Promise<void> {
  for (const file of SUBID_FILES) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const kept = text.split('\n').filter((line) => line !== '' && !line.startsWith(`${name}:`));
    await writeFile(file, [...kept, ...lines].map((line) => `${line}\n`).join(''));
  }
}

export async function createTestUser(token: string): Promise<TestUser> {
  const name = `berthtest-${token}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-rootless-${token}-`));
  await chmod(dir, 0o755);
  const home = path.join(dir, 'home');
  await run('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', '--user-group', name]);
  const uid = Number((await run('id', ['-u', name])).stdout.trim());
  const gid = Number((await run('id', ['-g', name])).stdout.trim());
  const subidStart = freeRangeStart(await Promise.all(SUBID_FILES.map((f) => readFile(f, 'utf8').catch(() => ''))));
  // our range only: whatever useradd added for the user is replaced
  await setSubidLines(name, [`${name}:${subidStart}:65536`]);
  const runtimeDir = path.join(dir, 'xdg-runtime');
  await mkdir(runtimeDir, { mode: 0o700 });
  await chown(runtimeDir, uid, gid);
  return {
    name, uid, gid, home, subidStart, dir, runtimeDir,
    remove: async () => {
      await run('userdel', ['--remove', name]).catch(() => undefined);
      await setSubidLines(name, []);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RootlessDaemon {
  process: ChildProcess;
  socket: string;
  env: NodeJS.ProcessEnv;
  log(): string;
  stop(): Promise<number | null>;
}

function berthdArgs(repo: string): string[] {
  const fromDist = import.meta.url.includes('/dist/');
  return fromDist ? [path.join(repo, 'dist/src/berthd/main.js')] : ['--import', 'tsx', path.join(repo, 'src/berthd/main.ts')];
}

/**
 * The checkout as the user can read it: where it is when every parent directory lets the
 * user in, else bind-mounted (read-only) into the test's directory, e.g. for a clone under
 * /root. BERTH_TEST_BIND_REPO=1 forces the bind.
 */
async function repoForUser(user: TestUser): Promise<{ repo: string; release(): Promise<void> }> {
  const readable = await run('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', 'test', '-r', path.join(REPO_ROOT, 'package.json')])
    .then(() => true, () => false);
  if (readable && process.env['BERTH_TEST_BIND_REPO'] !== '1') return { repo: REPO_ROOT, release: async () => undefined };
  const repo = path.join(user.dir, 'repo');
  await mkdir(repo);
  await run('mount', ['--bind', REPO_ROOT, repo]);
  await run('mount', ['-o', 'remount,bind,ro', repo]);
  return { repo, release: async () => { await run('umount', [repo]); } };
}

/** berthd as the user, with nothing but its environment to find its paths. */
export async function startRootlessBerthd(user: TestUser): Promise<RootlessDaemon> {
  const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: user.home, USER: user.name, XDG_RUNTIME_DIR: user.runtimeDir };
  const { repo, release } = await repoForUser(user);
  const child = spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', process.execPath, ...berthdArgs(repo), '--log-level', 'debug'], {
    cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  child.stderr?.on('data', (c: Buffer) => log.push(c.toString()));
  const socket = path.join(user.runtimeDir, 'berth', 'berth.sock');
  const clientEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(user.dir, 'docker-config') };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exited;
    await release().catch(() => undefined);
    return code;
  };
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) {
      await release().catch(() => undefined);
      throw new Error(`rootless berthd exited at startup:\n${log.join('')}`);
    }
    if (existsSync(socket) && await run('docker', ['version', '--format', '{{.Server.Version}}'], { env: clientEnv }).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    process: child, socket, env: clientEnv, log: () => log.join(''), stop,
  };
}

/** /dev/net/tun as Debian's udev leaves it (0666), for pasta; the old mode is given back. */
export async function openTunDevice(): Promise<() => Promise<void>> {
  const before = (await stat('/dev/net/tun')).mode & 0o7777;
  await chmod('/dev/net/tun', 0o666);
  return async () => { await chmod('/dev/net/tun', before); };
}

/** processes of a user (ps -u), as "pid comm" lines */
export async function processesOf(uid: number): Promise<string[]> {
  const out = await run('ps', ['-u', String(uid), '-o', 'pid=,comm=']).then((r) => r.stdout, () => '');
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** What is still running as the user after up to 10 s (a stopped daemon's helpers end just after it). */
export async function processesLeftOf(uid: number): Promise<string[]> {
  let left = await processesOf(uid);
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    left = await processesOf(uid);
  }
  return left;
}

/** The host's mounts whose line names a path under dir. */
export async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(dir));
}

/** Why a rootless test cannot run here (root to make the test user, the given needs, uidmap, pasta, setpriv), or false. */
export function rootlessSkipReason(...needs: Parameters<typeof requires>): string | false {
  const base = requires('root', ...needs);
  if (base) return base;
  for (const tool of ['/usr/bin/newuidmap', '/usr/bin/pasta', '/usr/bin/setpriv']) if (!existsSync(tool)) return `requires ${tool}`;
  return false;
}
