// State.Health as dockerd keeps it: the status, the failing streak and the last five
// probe results, and the rules that move it (handleProbeResult in moby's daemon/health.go).
import { z } from 'zod';

/** docker keeps this many probe results (maxLogEntries) */
export const MAX_LOG_ENTRIES = 5;
/** and this much of a probe's output (maxOutputLen) */
export const MAX_OUTPUT_BYTES = 4096;

export const healthLogEntrySchema = z.object({
  Start: z.string(),
  End: z.string(),
  ExitCode: z.number().int(),
  Output: z.string(),
});
export type HealthLogEntry = z.infer<typeof healthLogEntrySchema>;

export const healthSchema = z.object({
  Status: z.enum(['starting', 'healthy', 'unhealthy', 'none']),
  FailingStreak: z.number().int().min(0),
  Log: z.array(healthLogEntrySchema).nullable(),
});
export type HealthState = z.infer<typeof healthSchema>;
export type HealthStatus = HealthState['Status'];

/** A run begins: "starting" with no failures; the log of earlier runs is kept, as docker does. */
export function healthAtStart(previous: HealthState | undefined): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: previous?.Log ?? [] };
}

/** The checks stopped with the container: docker reports "unhealthy" from then on. */
export function healthAtStop(previous: HealthState | undefined): HealthState | undefined {
  return previous ? { ...previous, Status: 'unhealthy' } : undefined;
}

export interface ProbeOutcome {
  entry: HealthLogEntry;
  /** ms since the run started, when the probe began */
  sinceStartMs: number;
}

/**
 * Exit 0 is healthy and clears the streak. Any other result raises the streak, except
 * while "starting" inside the start period; at `retries` failures the status is unhealthy.
 */
export function applyProbeResult(health: HealthState, outcome: ProbeOutcome, rules: { retries: number; startPeriodMs: number }): HealthState {
  const log = [...(health.Log ?? []), outcome.entry].slice(-MAX_LOG_ENTRIES);
  if (outcome.entry.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const graced = health.Status === 'starting' && outcome.sinceStartMs < rules.startPeriodMs;
  if (graced) return { ...health, Log: log };
  const streak = health.FailingStreak + 1;
  return { Status: streak >= rules.retries ? 'unhealthy' : health.Status, FailingStreak: streak, Log: log };
}

/** What `ps` appends to "Up 5 minutes": "(healthy)", "(health: starting)", "(unhealthy)". */
export function healthSuffix(health: HealthState | undefined): string {
  if (!health || health.Status === 'none') return '';
  return health.Status === 'starting' ? ' (health: starting)' : ` (${health.Status})`;
}

/** Output kept as docker keeps it: the first MAX_OUTPUT_BYTES bytes, "..." when cut. */
export function truncateOutput(chunks: readonly Buffer[]): string {
  const all = Buffer.concat(chunks);
  const kept = all.subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
  return all.length > MAX_OUTPUT_BYTES ? `${kept}...` : kept;
}
