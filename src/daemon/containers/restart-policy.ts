// Docker's restart manager: which exits restart the container, and the backoff between
// restarts (100 ms doubling up to a minute, reset after a run of 10 s or more).
import type { RestartPolicy } from './create-request.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const STABLE_RUN_MS = 10_000;

export interface RestartDecision {
  restart: boolean;
  delayMs: number;
}

export class RestartTracker {
  private delayMs = 0;

  /** Decide after an exit; `restartCount` is the record's count before this restart. */
  decide(policy: RestartPolicy | null | undefined, exitCode: number, manuallyStopped: boolean, ranForMs: number,
    restartCount: number): RestartDecision {
    const name = policy?.Name ?? '';
    if (name === '' || name === 'no') return { restart: false, delayMs: 0 };
    this.delayMs = ranForMs >= STABLE_RUN_MS ? FIRST_DELAY_MS : Math.min(Math.max(this.delayMs * 2, FIRST_DELAY_MS), MAX_DELAY_MS);
    let restart = false;
    if (name === 'always') restart = !manuallyStopped;
    else if (name === 'unless-stopped') restart = !manuallyStopped;
    else if (name === 'on-failure') {
      const max = policy?.MaximumRetryCount ?? 0;
      restart = exitCode !== 0 && !manuallyStopped && (max === 0 || restartCount < max);
    }
    return { restart, delayMs: this.delayMs };
  }

  reset(): void {
    this.delayMs = 0;
  }
}

/** Should this container be started when the daemon starts? */
export function startsWithDaemon(policy: RestartPolicy | null | undefined, manuallyStopped: boolean, wasRunning: boolean): boolean {
  const name = policy?.Name ?? '';
  if (name === 'always') return true;   // docker: even after a manual stop
  if (name === 'unless-stopped') return !manuallyStopped;
  if (name === 'on-failure') return wasRunning;
  return false;
}
