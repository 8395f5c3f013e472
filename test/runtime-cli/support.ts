// Running bin/berth-runtime as a user would (through its thin client and resident server),
// and finding that server again: its pid file in the root, its liveness.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/busybox-rootfs.js';

export const CLI = path.join(REPO_ROOT, 'bin/berth-runtime');
export const PID_FILE = 'berth-runtime-server.pid';
export const SOCKET_FILE = 'berth-runtime.sock';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** env for the command: the server path (or the plain one), and the server's idle time */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

export function runCli(root: string, args: string[], extraEnv: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(CLI, ['--root', root, ...args], { encoding: 'utf8', env: cliEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** a command left running: its output so far, and its exit (its container may hold its pipes longer) */
export function startCli(root: string, args: string[]): { child: ReturnType<typeof spawn>; output(): string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(CLI, ['--root', root, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c: Buffer) => { text += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { text += c.toString(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => { child.on('exit', (code, signal) => resolve({ code, signal })); });
  return { child, output: () => text, exit };
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const start = Date.now(); !check();) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function serverPid(root: string): number | undefined {
  const file = path.join(root, PID_FILE);
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** the server of `root` is a node process serving that root */
export function isServerOf(pid: number, root: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(root);
  } catch {
    return false;
  }
}

/** Stop the server of `root` (SIGTERM: it finishes what is in flight) and wait until it is gone. */
export async function stopServer(root: string): Promise<void> {
  const pid = serverPid(root);
  if (pid === undefined || !isServerOf(pid, root)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  await waitFor(`server ${pid} to exit`, () => !alive(pid));
}

/** a spawnSync of the plain path, for comparison */
export function runPlain(root: string, args: string[]): SpawnSyncReturns<string> {
  return runCli(root, args, { BERTH_RUNTIME_SERVER: '0' });
}
