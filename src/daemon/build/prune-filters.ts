// `builder prune --filter until=…` as docker reads it: a Go duration ("24h", "1h30m", "90s")
// counted back from now, or a timestamp (RFC 3339 or Unix seconds).
import { invalidArgument } from '../../errors/berth-error.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration in milliseconds, or undefined when the text is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, value = '0', unit = 's'] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(value) * (UNIT_MS[unit] ?? 0);
  return total;
}

/** The `until` filter as a point in time (ms since the epoch). */
export function untilTime(value: string, now = Date.now()): number {
  const duration = parseGoDuration(value);
  if (duration !== undefined) return now - duration;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw invalidArgument('BUILD_PRUNE_BAD_FILTER', `invalid filter 'until=${value}': not a duration or a timestamp`);
  return parsed;
}

/** The prune filters berth knows (`until`); any other key is refused by name. */
export function pruneFilters(filters: Record<string, string[]>, now = Date.now()): { usedBefore?: number } {
  for (const key of Object.keys(filters)) {
    if (key !== 'until' && key !== 'unused-for') throw invalidArgument('BUILD_PRUNE_BAD_FILTER', `invalid filter '${key}'`);
  }
  const values = [...(filters['until'] ?? []), ...(filters['unused-for'] ?? [])];
  if (values.length === 0) return {};
  return { usedBefore: Math.min(...values.map((v) => untilTime(v, now))) };
}
