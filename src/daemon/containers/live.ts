// What is alive about a container while berthd runs (not persisted): its streams, its
// process, the waiters for its exit, and the run's side state (restart backoff, the root
// its create left mounted, the OOM watch); and the types the service's callers share.
import { EventEmitter } from 'node:events';
import { BerthError } from '../../errors/berth-error.js';
import type { MonitoredProcess } from './monitor.js';
import type { OomWatch } from './oom-watch.js';
import { exitedState, type ContainerRecord } from './record.js';
import { RestartTracker } from './restart-policy.js';
import { StreamHub } from './stream-hub.js';
import { healthAtStop } from './health/state.js';

export interface Live {
  hub: StreamHub;
  process: MonitoredProcess | undefined;
  /** 'exit' (exitCode, error) at each exit, 'removed' when the container is gone */
  exits: EventEmitter;
  restart: RestartTracker;
  restartTimer: NodeJS.Timeout | undefined;
  /** unmounts the root of a container created but not started (scheduleIdleUnmount) */
  idleUnmount: NodeJS.Timeout | undefined;
  /** the root while the service knows it mounted (every unmount goes through its unmountRoot) */
  mountedRoot: string | undefined;
  /** the root was made by its create and nothing (a run, docker cp) has written to it since */
  rootPristine: boolean;
  /** the mount its create began, while in flight (it never rejects: a failed one is retried by the start) */
  rootMounting: Promise<void> | undefined;
  /** the current run's OOM watch (set up beside the run, closed when it ends) */
  oomWatch: Promise<OomWatch | undefined> | undefined;
  /** `oom` events the watch sent for the current run */
  oomReported: number;
  startedAtMs: number;
}

export function newLive(): Live {
  const live: Live = { hub: new StreamHub(), process: undefined, exits: new EventEmitter(), restart: new RestartTracker(),
    restartTimer: undefined, idleUnmount: undefined, mountedRoot: undefined, rootPristine: false, rootMounting: undefined, oomWatch: undefined, oomReported: 0, startedAtMs: 0 };
  live.exits.setMaxListeners(0);
  return live;
}

/** How long a created container keeps the root its create mounted, waiting for its start. */
const IDLE_ROOT_UNMOUNT_MS = 10_000;

export function scheduleIdleUnmount(live: Live, unmount: () => void): void {
  clearTimeout(live.idleUnmount);
  live.idleUnmount = setTimeout(unmount, IDLE_ROOT_UNMOUNT_MS);
  // a daemon with nothing else to do may still exit (shutdown unmounts it)
  live.idleUnmount.unref();
}

export function cancelIdleUnmount(live: Live | undefined): void {
  if (live?.idleUnmount) {
    clearTimeout(live.idleUnmount);
    live.idleUnmount = undefined;
  }
}

export async function stopOomWatch(live: Live | undefined): Promise<void> {
  const watch = live?.oomWatch;
  if (!live || !watch) return;
  live.oomWatch = undefined;
  await (await watch)?.close();
}

/** Told when a container's run begins and ends (the health monitor). */
export interface RunWatcher {
  runStarted(record: ContainerRecord): void;
  runEnded(id: string): void;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** The next 'exit' or 'removed' of a container; `signal` ends the wait when the client goes away. */
export async function nextExit(live: Live, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
  const event = condition === 'removed' ? 'removed' : 'exit';
  return await new Promise<WaitResult>((resolve, reject) => {
    const onEvent = (exitCode: number, error: string): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ StatusCode: exitCode, Error: error ? { Message: error } : null });
    };
    const onAbort = (): void => {
      live.exits.off(event, onEvent);
      reject(new BerthError('unavailable', 'CLIENT_GONE', 'client went away'));
    };
    live.exits.once(event, onEvent);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The exit recorded: checks over (docker then shows "unhealthy"), OOM kill noted. */
export function stoppedState(previous: ContainerRecord['State'], exitCode: number, error: string, oomKilled: boolean): ContainerRecord['State'] {
  const state = exitedState(previous, exitCode, error, oomKilled);
  const health = healthAtStop(previous.Health);
  return health ? { ...state, Health: health } : state;
}
