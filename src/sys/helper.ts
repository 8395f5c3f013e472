// Spawning the native helper (native/src) and speaking its sync protocol
// (plan-format.ts). The only place in berth that runs berth-helper. It is started with
// posix_spawn (posix-spawn.ts), not child_process: no fork of the Node process.
// The helper gets: fds 0-2 stdio, fd 3 the plan (a memfd), fd 4 the sync socket.
import { existsSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../errors/berth-error.js';
import { SYNC_MESSAGES } from './plan-format.js';
import { encodePlan, type PlanOp } from './plan-writer.js';
import { errnoName } from './errno.js';
import { sealedCopy } from './fs-native.js';
import { closeFd, killAndReap, memoryFileWith, reapSoon, signalChild, socketPair, spawnProgram, spawnProgramAsync, watchChild, type ChildFd, type SpawnRequest } from './posix-spawn.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** native/build/berth-helper of this checkout (from src/sys or dist/src/sys); BERTH_HELPER overrides. */
export function helperPath(): string {
  const fromEnv = process.env['BERTH_HELPER'];
  if (fromEnv) return fromEnv;
  const candidates = [path.resolve(here, '../../native/build/berth-helper'), path.resolve(here, '../../../native/build/berth-helper')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new BerthError('unavailable', 'HELPER_MISSING', `berth-helper not found at ${candidates[0]}`,
      { hint: 'run `npm run build` (make -C native) first' });
  }
  return found;
}

/**
 * berth-helper as a sealed in-memory copy made now, by path (/proc/<pid>/fd/<fd>) for a
 * long-lived caller (berthd) to spawn: the helper finds itself sealed and skips making its
 * own copy and re-exec on every container start (CVE-2019-5736 protection either way).
 */
export function sealedHelperExecutable(): string {
  return `/proc/${process.pid}/fd/${sealedCopy(helperPath(), 'berth-helper')}`;
}

export interface HelperFailure {
  /** index of the failing plan op */
  stage: number;
  step: string;
  errno: number;
  code: string;
  path: string;
}

/** pipes to us, our own fds 0-2, /dev/null, or these three fds (the helper gets copies) */
export type HelperStdio = 'pipe' | 'inherit' | 'null' | readonly [number, number, number];

export interface HelperSession {
  /** the helper's pid (later the shim's: the container's parent) */
  readonly helperPid: number;
  /** resolves with the container pid (MSG_PID) */
  readonly pid: Promise<number>;
  /** resolves at MSG_READY, rejects with the helper's failure */
  readonly ready: Promise<void>;
  /** resolves at MSG_HOOKS (the container waits at HOOK_WAIT until go()), rejects like ready */
  readonly hookPoint: Promise<void>;
  /** the exit status the shim reported (MSG_EXIT), or derived from the shim's own exit */
  readonly exit: Promise<{ exitCode: number; signal: number }>;
  /** settles when the sync channel closes: the shim has exited (its last act after MSG_EXIT is the exit file), or detach() */
  readonly closed: Promise<void>;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** let the container process go on past SYNC_WAIT */
  go(): void;
  resize(cols: number, rows: number): void;
  /** signal the helper (shim) itself; a no-op once it has been reaped */
  kill(signal: NodeJS.Signals): void;
  /** stop listening so the caller's process can exit while the shim lives on */
  detach(): void;
}

function failureError(failure: HelperFailure): BerthError {
  const where = failure.path ? ` ${failure.path}` : '';
  return new BerthError('internal', 'HELPER_STEP_FAILED',
    `container setup failed at ${failure.step}${where}: ${failure.code}`, { detail: { ...failure } });
}

interface Deferred<T> { promise: Promise<T>; resolve(value: T): void; reject(err: unknown): void }
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

/** Our ends of the helper's channels, and what the helper gets at fds 0-4. */
interface HelperChannels {
  sync: number;
  stdio: Array<number | undefined>;
  childFds: ChildFd[];
  /** the helper's ends: closed here once it has them */
  handedOver: number[];
  /** a warm helper's plan socket (ours): the plan is written here later */
  planWriter?: number;
}

/**
 * `plan` goes into a memfd the helper reads at once; without one (a warm helper) fd 3 is a
 * socket whose other end is `planWriter`: the helper waits in its read until the plan is
 * written there and the end closed.
 */
function openChannels(plan: readonly PlanOp[] | undefined, stdio: HelperStdio): HelperChannels {
  const opened: number[] = [];
  try {
    const pair = (): [number, number] => { const fds = socketPair(); opened.push(...fds); return fds; };
    const channels: HelperChannels = { sync: -1, stdio: [], childFds: [], handedOver: [] };
    for (let fd = 0; fd < 3; fd++) {
      if (stdio === 'pipe') {
        const [ours, theirs] = pair(); // sockets, as child_process makes them for 'pipe'
        channels.stdio.push(ours);
        channels.childFds.push({ fd: theirs });
        channels.handedOver.push(theirs);
      } else if (Array.isArray(stdio)) {
        channels.childFds.push({ fd: stdio[fd] as number });
      } else {
        channels.childFds.push(stdio === 'null' ? 'devnull' : 'inherit');
      }
    }
    let planFd: number;
    if (plan) {
      planFd = memoryFileWith(encodePlan(plan), 'berth-plan');
      opened.push(planFd);
    } else {
      [channels.planWriter, planFd] = pair();
    }
    const [sync, syncTheirs] = pair();
    channels.sync = sync;
    channels.childFds.push({ fd: planFd }, { fd: syncTheirs });
    channels.handedOver.push(planFd, syncTheirs);
    return channels;
  } catch (err) {
    for (const fd of opened) closeFd(fd);
    throw err;
  }
}

/** A session whose helper never ran: every promise rejects with `err`. */
function failedSession(err: unknown): HelperSession {
  const rejected = Promise.reject(err);
  rejected.catch(() => undefined);
  return {
    helperPid: 0, pid: rejected as Promise<number>, ready: rejected as Promise<void>, hookPoint: rejected as Promise<void>,
    exit: rejected as Promise<{ exitCode: number; signal: number }>, closed: Promise.resolve(), stdin: null, stdout: null, stderr: null,
    go: () => undefined, resize: () => undefined, kill: () => undefined, detach: () => undefined,
  };
}

interface SpawnOptions {
  stdio: HelperStdio;
  detached?: boolean;
  executable?: string;
}

/** posix_spawn's request for berth-helper over `channels` (fds 0-4), no environment */
function helperRequest(file: string, channels: HelperChannels, args: readonly string[], setsid: boolean): SpawnRequest {
  return { file, argv: ['berth-helper', ...args], env: [], fds: channels.childFds, setsid };
}

/**
 * After a spawn, whichever way it went: the helper's ends are closed (it has its copies, or
 * never will), and ours too when it failed, since no session will own them.
 */
function releaseAfterSpawn(channels: HelperChannels, spawned: boolean): void {
  for (const fd of channels.handedOver) closeFd(fd);
  if (spawned) return;
  for (const fd of [channels.sync, ...channels.stdio, channels.planWriter]) if (fd !== undefined) closeFd(fd);
}

function spawnHelper(plan: readonly PlanOp[], options: SpawnOptions): { pid: number; channels: HelperChannels } {
  const file = options.executable ?? helperPath();
  const channels = openChannels(plan, options.stdio);
  let pid: number;
  try {
    pid = spawnProgram(helperRequest(file, channels, [], options.detached ?? false));
  } catch (err) {
    releaseAfterSpawn(channels, false);
    throw err;
  }
  releaseAfterSpawn(channels, true);
  return { pid, channels };
}

/** spawnHelper's spawn on koffi's worker thread, for channels already open */
async function spawnHelperAsync(channels: HelperChannels, file: string, args: readonly string[], setsid: boolean): Promise<number> {
  let pid: number;
  try {
    pid = await spawnProgramAsync(helperRequest(file, channels, args, setsid));
  } catch (err) {
    releaseAfterSpawn(channels, false);
    throw err;
  }
  releaseAfterSpawn(channels, true);
  return pid;
}

function spawnFailure(cause: unknown): BerthError {
  if (cause instanceof BerthError && cause.code === 'HELPER_MISSING') return cause; // it has the hint
  const message = cause instanceof BerthError && cause.code === 'SPAWN_FAILED'
    ? cause.message.replace(/^cannot run /, '') : cause instanceof Error ? cause.message : String(cause);
  return new BerthError('unavailable', 'HELPER_NOT_RUNNABLE', `cannot run berth-helper ${message}`, { cause });
}

/** Spawn berth-helper with `plan`; the session parses its sync messages. */
export function startHelper(plan: readonly PlanOp[], options: SpawnOptions): HelperSession {
  let spawned: { pid: number; channels: HelperChannels };
  try {
    spawned = spawnHelper(plan, options);
  } catch (cause) {
    return failedSession(spawnFailure(cause));
  }
  return openSession(spawned).session;
}

/**
 * startHelper with the spawn on koffi's worker thread: the event loop goes on serving other
 * requests while the child execs (berthd, containers started side by side).
 */
export async function startHelperAsync(plan: readonly PlanOp[], options: SpawnOptions): Promise<HelperSession> {
  let channels: HelperChannels;
  let file: string;
  try {
    file = options.executable ?? helperPath();
    channels = openChannels(plan, options.stdio);
  } catch (cause) {
    return failedSession(spawnFailure(cause));
  }
  let pid: number;
  try {
    pid = await spawnHelperAsync(channels, file, [], options.detached ?? false);
  } catch (cause) {
    return failedSession(spawnFailure(cause));
  }
  return openSession({ pid, channels }).session;
}

/**
 * A helper spawned before its container is asked for (pipes for stdio, not detached): it
 * has exec'd and waits for its plan, so a create that takes it skips the spawn.
 */
export interface WarmHelper {
  readonly helperPid: number;
  /** false once it has exited or been taken: then start() must not be called */
  usable(): boolean;
  /** hand it its plan; from here on it is an ordinary session (undefined: it had died, and is reaped) */
  start(plan: readonly PlanOp[]): HelperSession | undefined;
  /** kill and reap it now, synchronously (also from a process 'exit' handler) */
  discard(): void;
}

/**
 * Spawn a warm helper. Nothing of it holds the event loop until it is started. With
 * `spareNetns` it makes a network namespace while it waits, which the container gets
 * instead of a new one at clone time (native/src/main.c).
 */
export async function spawnWarmHelper(options: { executable?: string; spareNetns?: boolean }): Promise<WarmHelper> {
  const file = options.executable ?? helperPath();
  const channels = openChannels(undefined, 'pipe');
  let pid: number;
  try {
    // on a worker thread: a warm helper is made while the event loop serves requests
    pid = await spawnHelperAsync(channels, file, options.spareNetns ? ['--spare-netns'] : [], false);
  } catch (cause) {
    throw spawnFailure(cause);
  }
  const spawned = { pid, channels };
  const { session, sockets, closed } = openSession(spawned);
  for (const socket of sockets) socket.unref();
  let planWriter = spawned.channels.planWriter;
  const take = (): number | undefined => { const fd = planWriter; planWriter = undefined; return fd; };
  return {
    helperPid: session.helperPid,
    usable: () => planWriter !== undefined && !closed(),
    start: (plan) => {
      const fd = take();
      if (fd === undefined) throw new BerthError('internal', 'HELPER_TAKEN', `warm berth-helper ${session.helperPid} was started already`);
      try {
        const bytes = encodePlan(plan);
        // the helper is blocked reading: a plan bigger than the socket buffer drains as it is written
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      } catch {
        // it died while waiting (EPIPE) before we saw its channel close
        for (const socket of sockets) socket.destroy();
        killAndReap(session.helperPid);
        return undefined;
      } finally {
        closeFd(fd);
      }
      for (const socket of sockets) socket.ref();
      return session;
    },
    discard: () => {
      const fd = take();
      if (fd !== undefined) closeFd(fd);
      for (const socket of sockets) socket.destroy();
      killAndReap(session.helperPid);
    },
  };
}

function openSession(spawned: { pid: number; channels: HelperChannels }): { session: HelperSession; sockets: net.Socket[]; closed: () => boolean } {
  const helperPid = spawned.pid;
  const reaped = watchChild(helperPid);
  const sync = new net.Socket({ fd: spawned.channels.sync, readable: true, writable: true });
  const socketAt = (i: number): net.Socket | null => {
    const fd = spawned.channels.stdio[i];
    return fd === undefined ? null : new net.Socket({ fd, readable: i !== 0, writable: i === 0 });
  };
  const stdin = socketAt(0);
  const stdout = socketAt(1);
  const stderr = socketAt(2);
  const pid = deferred<number>();
  const ready = deferred<void>();
  const hookPoint = deferred<void>();
  const exit = deferred<{ exitCode: number; signal: number }>();
  let buffered: Buffer = Buffer.alloc(0);
  let exitSeen = false;
  let detached = false;

  const onMessage = (type: number, a: number, b: number, body: Buffer): void => {
    if (type === SYNC_MESSAGES.MSG_PID) pid.resolve(a);
    else if (type === SYNC_MESSAGES.MSG_READY) ready.resolve();
    else if (type === SYNC_MESSAGES.MSG_HOOKS) hookPoint.resolve();
    else if (type === SYNC_MESSAGES.MSG_ERROR) {
      const [step = '?', failPath = ''] = body.toString('utf8').split('\0');
      const err = failureError({ stage: a, step, errno: b, code: errnoName(b), path: failPath });
      pid.reject(err);
      ready.reject(err);
      hookPoint.reject(err);
    } else if (type === SYNC_MESSAGES.MSG_EXIT) {
      exitSeen = true;
      exit.resolve({ exitCode: a, signal: b });
    }
  };
  sync.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 16) {
      const length = buffered.readUInt32LE(12);
      if (buffered.length < 16 + length) break;
      onMessage(buffered.readUInt32LE(0), buffered.readUInt32LE(4), buffered.readUInt32LE(8), buffered.subarray(16, 16 + length));
      buffered = buffered.subarray(16 + length);
    }
  });
  sync.on('error', () => undefined);
  for (const stream of [stdin, stdout, stderr]) stream?.on('error', () => undefined);
  // the shim holds the sync channel until it exits: its end is the helper's end
  let syncClosed = false;
  const closed = deferred<void>();
  sync.on('close', () => {
    syncClosed = true;
    closed.resolve();
    const early = new BerthError('internal', 'HELPER_EXITED', 'berth-helper exited before the container was ready');
    pid.reject(early);
    ready.reject(early);
    hookPoint.reject(early);
    void reaped.then((status) => { if (!exitSeen) exit.resolve(status); });
    // the shim closes the sync channel as it exits; after detach() it lives on, and only
    // SIGCHLD (which does not hold the event loop) reaps it if this process outlives it
    if (!detached) reapSoon(helperPid);
  });
  const session: HelperSession = {
    helperPid,
    pid: pid.promise,
    ready: ready.promise,
    hookPoint: hookPoint.promise,
    exit: exit.promise,
    closed: closed.promise,
    stdin, stdout, stderr,
    go: () => { sync.write('G'); },
    resize: (cols, rows) => {
      const msg = Buffer.alloc(5);
      msg.write('R', 0, 'ascii');
      msg.writeUInt16LE(cols, 1);
      msg.writeUInt16LE(rows, 3);
      sync.write(msg);
    },
    kill: (signal) => { signalChild(helperPid, signal); },
    detach: () => {
      detached = true;
      sync.destroy();
    },
  };
  const sockets = [sync, stdin, stdout, stderr].filter((socket): socket is net.Socket => socket !== null);
  return { session, sockets, closed: () => syncClosed };
}
