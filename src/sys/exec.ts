// Running host programs (ip, nft, tar...) with argv arrays, never a shell string.
// They are started with posix_spawn (posix-spawn.ts), not node's child_process: a fork of
// berthd copies its page tables and blocks the event loop for 9-15 ms per program, on every
// container start and stop that touches the network; a vfork-style spawn costs ~1 ms.
// As with child_process, stdout and stderr are unix sockets read as streams; the input is
// handed over in an in-memory file, so a program that does not read it never blocks us.
import { accessSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BerthError, isBerthError } from '../errors/berth-error.js';
import { insideNetns } from './netlink.js';
import { closeFd, memoryFileWith, reapSoon, signalChild, socketPair, spawnProgram, watchChild, type ChildFd } from './posix-spawn.js';

export interface RunOptions {
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** do not throw on a non-zero exit; the caller inspects `code` */
  allowFailure?: boolean;
  /** SIGKILL the program after this many milliseconds (it then counts as failed) */
  timeoutMs?: number;
  /** argv[0] as the program sees it (OCI hooks: args[0]) */
  argv0?: string;
  /**
   * Start it in the network namespace bound at this file, as `nsenter --net=` would, without
   * the nsenter (the spawning thread steps in for the spawn only). Needs CAP_SYS_ADMIN where
   * this process's namespace is owned: not for a rootless berthd.
   */
  netns?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runProgram(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env = options.env ?? process.env;
  const { pid, stdout, stderr } = startProgram(file, args, options, env);
  const exited = watchChild(pid);
  const timer = options.timeoutMs !== undefined ? setTimeout(() => { signalChild(pid, 'SIGKILL'); }, options.timeoutMs) : undefined;
  try {
    const [out, err] = await Promise.all([readAll(stdout), readAll(stderr)]);
    reapSoon(pid); // its output ended: it is exiting; reap it without waiting for SIGCHLD alone
    const status = await exited;
    const result = { code: status.exitCode, stdout: out, stderr: err };
    if (result.code !== 0 && !options.allowFailure) {
      throw new BerthError('internal', 'PROGRAM_FAILED', `${file} ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
    }
    return result;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Spawns `file` with its input in a memory file (or /dev/null) and its stdout/stderr on sockets of ours. */
function startProgram(file: string, args: readonly string[], options: RunOptions, env: NodeJS.ProcessEnv): { pid: number; stdout: number; stderr: number } {
  const opened: number[] = [];
  const ours: number[] = [];
  try {
    const input = typeof options.input === 'string' ? Buffer.from(options.input) : options.input;
    let stdin: ChildFd = 'devnull';
    if (input !== undefined && input.byteLength > 0) {
      const fd = memoryFileWith(input, 'berth-input');
      opened.push(fd);
      stdin = { fd };
    }
    const [stdout, childStdout] = socketPair();
    ours.push(stdout);
    opened.push(childStdout);
    const [stderr, childStderr] = socketPair();
    ours.push(stderr);
    opened.push(childStderr);
    const located = locate(file, env);
    const spawn = (): number => spawnProgram({
      file: located.file, searchPath: located.searchPath, cwd: options.cwd,
      argv: [options.argv0 ?? file, ...args], env: environment(env),
      fds: [stdin, { fd: childStdout }, { fd: childStderr }],
    });
    // a child starts in the namespace of the thread that spawns it
    const pid = options.netns !== undefined ? insideNetns(options.netns, spawn) : spawn();
    return { pid, stdout, stderr };
  } catch (err) {
    for (const fd of ours) closeFd(fd);
    if (isBerthError(err, 'unavailable')) {
      throw new BerthError('unavailable', 'PROGRAM_NOT_RUNNABLE', err.message, { cause: err, detail: err.detail });
    }
    throw err;
  } finally {
    for (const fd of opened) closeFd(fd);
  }
}

/**
 * A bare name is looked up in the PATH the program gets, as execvp in child_process does:
 * glibc's posix_spawnp searches this process's PATH, so another PATH is searched here.
 */
function locate(file: string, env: NodeJS.ProcessEnv): { file: string; searchPath: boolean } {
  if (file.includes('/') || env.PATH === process.env.PATH) return { file, searchPath: !file.includes('/') };
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir || '.', file);
    try {
      accessSync(candidate, fsConstants.X_OK); // a few cached-dentry lookups, only for a caller's own PATH
      return { file: candidate, searchPath: false };
    } catch { /* not in this directory */ }
  }
  return { file, searchPath: true }; // not found: posix_spawnp reports ENOENT
}

function environment(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
}

/** Everything read from our end of a child's stdout or stderr, until it closes. */
async function readAll(fd: number): Promise<string> {
  const socket = new net.Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => {
    // an error (a reset) ends the output like a close does; what was read is kept
    socket.on('error', () => undefined);
    socket.on('close', () => { resolve(); });
  });
  return Buffer.concat(chunks).toString('utf8');
}
