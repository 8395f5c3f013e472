// Starting a program inside a new user + mount namespace whose id maps are written by the
// setuid helpers newuidmap/newgidmap (Debian's uidmap), as rootlesskit and podman do for an
// unprivileged user. The child waits on its stdin until the maps exist, then execs the
// program: exec'ing as uid 0 of the namespace is what gives the program its capabilities
// there (an exec before the maps exist would drop them).
import { spawn } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../errors/berth-error.js';
import { runProgram } from './exec.js';

/** one line of /proc/PID/uid_map: inside id, outside id, count */
export interface NamespaceIdMap { inside: number; outside: number; count: number }

export interface UsernsSpawnOptions {
  program: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  uidMap: readonly NamespaceIdMap[];
  gidMap: readonly NamespaceIdMap[];
}

/** The running child: signal it, learn how it ended. */
export interface UsernsChild {
  readonly pid: number;
  kill(signal: NodeJS.Signals): void;
  /** exit code, or 128 + signal number as a shell reports it */
  readonly exited: Promise<number>;
}

/** `newuidmap PID 0 1000 1 1 100000 65536` argv after the pid */
export function idMapArgs(map: readonly NamespaceIdMap[]): string[] {
  return map.flatMap((m) => [String(m.inside), String(m.outside), String(m.count)]);
}

// sh only waits for one line and execs: no policy, nothing parsed
const WAIT_THEN_EXEC = 'read -r _ || exit 125; exec "$@"';

/**
 * Spawns `program args` in a new user and mount namespace (mount propagation private, so
 * nothing mounted inside shows on the host) with the given maps. stdout and stderr are
 * inherited. Rejects, with the child killed, when a map cannot be written.
 */
export async function spawnInUserNamespace(options: UsernsSpawnOptions): Promise<UsernsChild> {
  const child = spawn('unshare', ['--user', '--mount', '--propagation', 'private', '--',
    '/bin/sh', '-c', WAIT_THEN_EXEC, 'berth-rootless', options.program, ...options.args], {
    env: options.env, stdio: ['pipe', 'inherit', 'inherit'],
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (cause) => reject(new BerthError('unavailable', 'PROGRAM_NOT_RUNNABLE', `cannot run unshare: ${cause.message}`, { cause })));
    child.once('exit', (code) => reject(new BerthError('internal', 'USERNS_CHILD_EXITED', `the user namespace child exited (${code ?? 'signal'}) before its id maps were written`)));
  });
  failed.catch(() => undefined);
  const pid = child.pid;
  try {
    if (pid === undefined) return await failed;
    await Promise.race([waitForOwnUserNamespace(pid), failed]);
    await Promise.race([writeMap('newuidmap', pid, options.uidMap), failed]);
    await Promise.race([writeMap('newgidmap', pid, options.gidMap), failed]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.removeAllListeners('exit');
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
  child.stdin?.end('go\n');
  return { pid, kill: (signal) => { child.kill(signal); }, exited };
}

/** unshare(2) happens right after spawn; the maps can only be written once it did */
async function waitForOwnUserNamespace(pid: number): Promise<void> {
  const ours = await readlink('/proc/self/ns/user');
  for (let i = 0; i < 500; i++) {
    const theirs = await readlink(`/proc/${pid}/ns/user`).catch(() => ours);
    if (theirs !== ours) return;
    await sleep(2);
  }
  throw new BerthError('internal', 'USERNS_NOT_CREATED', `process ${pid} did not enter a new user namespace within a second`,
    { hint: 'check that unprivileged user namespaces are enabled (sysctl user.max_user_namespaces)' });
}

async function writeMap(tool: 'newuidmap' | 'newgidmap', pid: number, map: readonly NamespaceIdMap[]): Promise<void> {
  const result = await runProgram(tool, [String(pid), ...idMapArgs(map)], { allowFailure: true });
  if (result.code === 0) return;
  const file = tool === 'newuidmap' ? '/etc/subuid' : '/etc/subgid';
  throw new BerthError('forbidden', 'ID_MAP_REFUSED', `${tool} ${pid} ${idMapArgs(map).join(' ')} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    { hint: `the ranges must be listed for this user in ${file}, and ${tool} must be setuid root (Debian package uidmap)` });
}
