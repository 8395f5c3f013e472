// Starts a private berthd (own data-root, exec-root, socket, cgroup parent) for API tests,
// imports a busybox image through it, and checks after the suite that nothing leaked.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { makeBusyboxRootfs, REPO_ROOT } from '../support/busybox-rootfs.js';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { instanceFromDataRoot, instanceNames } from '../../src/network/names.js';

const run = promisify(execFile);

export interface Berthd {
  dir: string;
  token: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  cgroupParent: string;
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  log(): Promise<string>;
}

function berthdCommand(): { file: string; args: string[] } {
  const fromDist = import.meta.url.includes('/dist/');
  // from dist: the bundle bin/berthd runs (npm run build makes it), else the compiled modules
  const bundle = path.join(REPO_ROOT, 'dist/berthd/launch.cjs');
  if (fromDist) return { file: process.execPath, args: [existsSync(bundle) ? bundle : path.join(REPO_ROOT, 'dist/src/berthd/main.js')] };
  return { file: process.execPath, args: ['--import', 'tsx', path.join(REPO_ROOT, 'src/berthd/main.ts')] };
}

export async function startBerthd(existing?: { dir: string; token: string }, extraArgs: readonly string[] = []): Promise<Berthd> {
  const token = existing?.token ?? randomBytes(3).toString('hex');
  const dir = existing?.dir ?? await mkdtemp(path.join(os.tmpdir(), `berth-api-${token}-`));
  const socket = path.join(dir, 'berth.sock');
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const cgroupParent = `/berth-test-${token}`;
  const { file, args } = berthdCommand();
  const child = spawn(file, [...args, '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`,
    '--cgroup-parent', cgroupParent, '--log-level', 'debug', '--config-file', path.join(dir, 'none.json'), '--pidfile', path.join(dir, 'berthd.pid'), ...extraArgs], {
    cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logFile: string[] = [];
  const keepLog = process.env['BERTH_TEST_LOG_DIR'];
  child.stderr?.on('data', (c: Buffer) => {
    logFile.push(c.toString());
    if (keepLog) void appendFile(path.join(keepLog, `berthd-${token}.log`), c).catch(() => undefined);
  });
  await writeEmptyConfig(path.join(dir, 'none.json'));
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'docker-config') };
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`berthd exited at startup:\n${logFile.join('')}`);
    if (existsSync(socket)) {
      const ok = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env }).then(() => true, () => false);
      if (ok) break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { dir, token, socket, dataRoot, execRoot, cgroupParent, env, process: child, log: async () => logFile.join('') };
}

async function writeEmptyConfig(file: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, '{}\n');
}

/** SIGTERM (clean stop) or SIGKILL (crash), and wait for the process to be gone. */
export async function stopBerthd(daemon: Berthd, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (daemon.process.exitCode !== null || daemon.process.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
  daemon.process.kill(signal);
  await exited;
}

export async function docker(daemon: Berthd, args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return await new Promise((resolve) => {
    const child = spawn('docker', args, { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    // a command that exits before reading its stdin closes the pipe: EPIPE there is not a failure
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** docker ... that must succeed; returns trimmed stdout */
export async function dockerOk(daemon: Berthd, args: string[], input?: string): Promise<string> {
  const result = await docker(daemon, args, input);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}

/** a busybox rootfs tarball, imported as busybox:latest */
export async function importBusybox(daemon: Berthd): Promise<string> {
  const root = await makeBusyboxRootfs(path.join(daemon.dir, 'rootfs'));
  const tarball = path.join(daemon.dir, 'busybox.tar');
  await run('tar', ['-C', root, '-cf', tarball, '.']);
  const id = await dockerOk(daemon, ['import', tarball, 'busybox:latest']);
  await rm(root, { recursive: true, force: true });
  return id;
}

/** Everything this daemon could have left on the host; empty when nothing leaked. */
export async function findLeaks(daemon: Pick<Berthd, 'dir' | 'dataRoot' | 'cgroupParent'>): Promise<string[]> {
  const leaks: string[] = [];
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mountinfo.split('\n')) if (line.includes(daemon.dir)) leaks.push(`mount: ${line.split(' ')[4]}`);
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const dir = path.join('/sys/fs/cgroup', controller, daemon.cgroupParent);
    const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const child of children) if (child.isDirectory()) leaks.push(`cgroup: ${path.join(dir, child.name)}`);
  }
  const names = instanceNames(instanceFromDataRoot(path.resolve(daemon.dataRoot)));
  const links = await run('ip', ['-o', 'link', 'show']).then((r) => r.stdout, () => '');
  for (const line of links.split('\n')) {
    const name = /^\d+:\s+([^:@]+)/.exec(line)?.[1];
    if (name && (name.startsWith(names.bridgePrefix) || name.startsWith(names.vethPrefix))) leaks.push(`link: ${name}`);
  }
  const tables = await run('nft', ['list', 'tables']).then((r) => r.stdout, () => '');
  if (tables.includes(names.table)) leaks.push(`nft table: ${names.table}`);
  const ps = await run('ps', ['-eo', 'pid,args']).then((r) => r.stdout, () => '');
  for (const line of ps.split('\n')) if (line.includes(daemon.dir) && !line.includes('ps -eo')) leaks.push(`process: ${line.trim()}`);
  return leaks;
}

/** The setup suites of service tests share: a private berthd with busybox:latest imported. */
export async function startBerthdWithBusybox(): Promise<Berthd> {
  const daemon = await startBerthd();
  await importBusybox(daemon);
  return daemon;
}

/**
 * A test file's whole lifecycle with one such daemon: started (busybox imported) before its tests,
 * torn down after them with nothing leaked. The file keeps the daemon in its own variable, reached
 * through `slot`, because a test may replace it (a daemon restart) and teardown must stop the current one.
 */
export function useBerthdWithBusybox(skip: string | false, slot: { set(daemon: Berthd): void; get(): Berthd }): void {
  before(async () => {
    if (skip) return;
    slot.set(await startBerthdWithBusybox());
  });
  after(async () => {
    if (skip) return;
    assert.deepEqual(await teardownBerthd(slot.get()), []);
  });
}

/**
 * Their teardown: every container removed with its anonymous volumes, every volume pruned,
 * the daemon stopped, its host state and directory dropped. Returns what leaked (empty when clean).
 */
export async function teardownBerthd(daemon: Berthd): Promise<string[]> {
  const ids = (await docker(daemon, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await docker(daemon, ['rm', '-f', '-v', ...ids]);
  await docker(daemon, ['volume', 'prune', '-f', '--all']);
  return await retireBerthd(daemon);
}

/** Stop the daemon, drop its host state, and its directory; returns what leaked (empty when clean). */
export async function retireBerthd(daemon: Berthd, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<string[]> {
  await stopBerthd(daemon, signal);
  await cleanupBerthd(daemon);
  const leaks = await findLeaks(daemon);
  await removeDir(daemon);
  return leaks;
}

/** After the daemon stopped: drop its network state (bridges, firewall) and its files. */
export async function cleanupBerthd(daemon: Berthd): Promise<void> {
  const networks = new NetworksService({ dataRoot: daemon.dataRoot, execRoot: daemon.execRoot });
  await networks.start([]).catch(() => undefined);
  await networks.teardown().catch(() => undefined);
  await networks.close().catch(() => undefined);
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    await run('rmdir', [path.join('/sys/fs/cgroup', controller, daemon.cgroupParent)]).catch(() => undefined);
  }
}

/** Remove the daemon's directory; a mount still inside it is reported, not followed. */
export async function removeDir(daemon: Berthd): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mounted = mountinfo.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(daemon.dir));
  for (const mount of mounted.reverse()) await run('umount', ['-l', mount]).catch(() => undefined);
  await rm(daemon.dir, { recursive: true, force: true });
}
