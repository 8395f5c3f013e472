// A container's health check as dockerd reads it: Config.Healthcheck merged with the
// image's (field by field, as dockerd's merge does), checked at create, and turned into
// the probe command and its timings with docker's defaults.
import { invalidArgument } from '../../../errors/berth-error.js';
import type { ContainerConfig } from '../create-request.js';

type HealthConfig = NonNullable<ContainerConfig['Healthcheck']>;

/** docker's defaults (api/types/container: DefaultHealthInterval and friends) */
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
/** the smallest non-zero duration the API accepts (1ms, in nanoseconds) */
const MINIMUM_DURATION_NS = 1_000_000;

export type HealthOnFailure = 'none' | 'restart' | 'stop' | 'kill';

export interface HealthProbe {
  /** the command run as an exec: ["CMD", ...] as is, ["CMD-SHELL", s] through the shell */
  args: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** dockerd's merge: an empty field of the request's check takes the image's value. */
export function mergeHealthcheck(request: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!image) return request ?? undefined;
  if (!request) return image;
  return {
    ...request,
    Test: request.Test && request.Test.length > 0 ? request.Test : image.Test ?? null,
    Interval: request.Interval || image.Interval || 0,
    Timeout: request.Timeout || image.Timeout || 0,
    StartPeriod: request.StartPeriod || image.StartPeriod || 0,
    StartInterval: request.StartInterval || image.StartInterval || 0,
    Retries: request.Retries || image.Retries || 0,
  };
}

/** The checks dockerd makes (validateHealthCheck), plus the probe type, which docker only warns about. */
export function checkHealthcheck(check: HealthConfig | null | undefined): void {
  if (!check) return;
  const durations: Array<[string, number | undefined]> = [['Interval', check.Interval], ['Timeout', check.Timeout],
    ['StartPeriod', check.StartPeriod], ['StartInterval', check.StartInterval]];
  for (const [name, value] of durations) {
    if (value !== undefined && value !== 0 && value < MINIMUM_DURATION_NS) {
      throw invalidArgument('BAD_HEALTHCHECK', `${name} in Healthcheck cannot be less than 1ms`);
    }
  }
  if ((check.Retries ?? 0) < 0) throw invalidArgument('BAD_HEALTHCHECK', 'Retries in Healthcheck cannot be negative');
  const test = check.Test ?? [];
  const kind = test[0];
  if (kind === undefined || kind === 'NONE') return;
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') {
    throw invalidArgument('BAD_HEALTHCHECK', `unknown healthcheck type '${kind}' (expected CMD, CMD-SHELL or NONE)`);
  }
  if (test.length < 2 || (kind === 'CMD-SHELL' && test.slice(1).join(' ').trim() === '')) {
    throw invalidArgument('BAD_HEALTHCHECK', `healthcheck ${kind} has no command`);
  }
}

/** The probe to run for this config; undefined when there is none (no check, or NONE). */
export function healthProbeOf(config: Pick<ContainerConfig, 'Healthcheck' | 'Shell'>): HealthProbe | undefined {
  const check = config.Healthcheck;
  const test = check?.Test ?? [];
  const kind = test[0];
  if (!check || (kind !== 'CMD' && kind !== 'CMD-SHELL') || test.length < 2) return undefined;
  const shell = config.Shell && config.Shell.length > 0 ? config.Shell : ['/bin/sh', '-c'];
  return {
    args: kind === 'CMD' ? test.slice(1) : [...shell, test.slice(1).join(' ')],
    intervalMs: millis(check.Interval, DEFAULT_INTERVAL_MS),
    timeoutMs: millis(check.Timeout, DEFAULT_TIMEOUT_MS),
    startPeriodMs: millis(check.StartPeriod, 0),
    startIntervalMs: millis(check.StartInterval, DEFAULT_START_INTERVAL_MS),
    retries: check.Retries && check.Retries > 0 ? check.Retries : DEFAULT_RETRIES,
  };
}

function millis(nanos: number | undefined, fallback: number): number {
  return nanos && nanos > 0 ? Math.max(1, Math.round(nanos / 1e6)) : fallback;
}

/** HostConfig.HealthOnFailure (berth's own field; `none` when left out). */
export function healthOnFailureOf(value: string | undefined): HealthOnFailure {
  return value === 'restart' || value === 'stop' || value === 'kill' ? value : 'none';
}

/** Go's time.Duration.String() for whole milliseconds: 30s, 1.5s, 500ms, 2m0s. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
