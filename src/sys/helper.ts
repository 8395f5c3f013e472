// Spawning the native helper (native/src) and speaking its sync protocol
// (plan-format.ts). The only place in berth that runs berth-helper.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable, Duplex } from 'node:stream';
import { BerthError } from '../errors/berth-error.js';
import { SYNC_MESSAGES } from './plan-format.js';
import { encodePlan, type PlanOp } from './plan-writer.js';
import { errnoName } from './errno.js';
import { sealedCopy } from './fs-native.js';

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

export type HelperStdio = 'pipe' | 'inherit' | 'null';

export interface HelperSession {
  readonly child: ChildProcess;
  /** resolves with the container pid (MSG_PID) */
  readonly pid: Promise<number>;
  /** resolves at MSG_READY, rejects with the helper's failure */
  readonly ready: Promise<void>;
  /** resolves at MSG_HOOKS (the container waits at HOOK_WAIT until go()), rejects like ready */
  readonly hookPoint: Promise<void>;
  /** the exit status the shim reported (MSG_EXIT), or derived from the shim's own exit */
  readonly exit: Promise<{ exitCode: number; signal: number }>;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** let the container process go on past SYNC_WAIT */
  go(): void;
  resize(cols: number, rows: number): void;
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

/** Spawn berth-helper with `plan`; the session parses its sync messages. */
export function startHelper(plan: readonly PlanOp[], options: { stdio: HelperStdio; detached?: boolean; executable?: string }): HelperSession {
  const io: StdioOptions = [options.stdio === 'null' ? 'ignore' : options.stdio, options.stdio === 'null' ? 'ignore' : options.stdio,
    options.stdio === 'null' ? 'ignore' : options.stdio, 'pipe', 'pipe'];
  const child = spawn(options.executable ?? helperPath(), [], { stdio: io, detached: options.detached ?? false, env: {} });
  const planStream = child.stdio[3] as Writable;
  const sync = child.stdio[4] as Duplex;
  const pid = deferred<number>();
  const ready = deferred<void>();
  const hookPoint = deferred<void>();
  const exit = deferred<{ exitCode: number; signal: number }>();
  let buffered: Buffer = Buffer.alloc(0);
  let exitSeen = false;

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
  planStream.on('error', () => undefined);
  const early = new BerthError('internal', 'HELPER_EXITED', 'berth-helper exited before the container was ready');
  child.on('error', (cause) => {
    const err = new BerthError('unavailable', 'HELPER_NOT_RUNNABLE', `cannot run berth-helper: ${cause.message}`, { cause });
    pid.reject(err); ready.reject(err); hookPoint.reject(err); exit.reject(err);
  });
  child.on('close', (code, signal) => {
    pid.reject(early);
    ready.reject(early);
    hookPoint.reject(early);
    if (!exitSeen) exit.resolve({ exitCode: code ?? 128, signal: signal ? 9 : 0 });
  });
  planStream.end(encodePlan(plan));
  return {
    child,
    pid: pid.promise,
    ready: ready.promise,
    hookPoint: hookPoint.promise,
    exit: exit.promise,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    go: () => { sync.write('G'); },
    resize: (cols, rows) => {
      const msg = Buffer.alloc(5);
      msg.write('R', 0, 'ascii');
      msg.writeUInt16LE(cols, 1);
      msg.writeUInt16LE(rows, 3);
      sync.write(msg);
    },
    detach: () => {
      sync.destroy();
      child.unref();
    },
  };
}
