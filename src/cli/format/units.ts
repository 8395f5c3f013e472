// Human sizes and durations exactly as docker prints them (github.com/docker/go-units),
// and the parsers for sizes and durations given on the command line.
import { invalidArgument } from '../../errors/berth-error.js';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scaled(size: number, base: number, units: string[], precision: number): string {
  let value = size;
  let i = 0;
  while (value >= base && i < units.length - 1) { value /= base; i++; }
  return `${Number(value.toPrecision(precision))}${units[i]}`;
}

/** units.HumanSizeWithPrecision(size, 3): "1.98MB" (units.HumanSize is precision 4) */
export function humanSize(size: number, precision = 3): string { return scaled(size, 1000, DECIMAL, precision); }
/** units.BytesSize: "1.5MiB" */
export function bytesSize(size: number): string { return scaled(size, 1024, BINARY, 4); }

/** units.HumanDuration: "Less than a second", "About a minute", "3 hours"... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)} years`;
}

/** "2 hours ago" from a unix time in seconds */
export function ago(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Go's time.Time String() in UTC, as docker's CreatedAt: "2026-11-27 21:11:52 +0000 UTC" */
export function goTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000 UTC`;
}

const SIZE_SUFFIX: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** units.RAMInBytes: "512m", "1g", "1024" (binary multiples); the error says docker's words. */
export function parseRamSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  if (match === null) throw invalidArgument('INVALID_SIZE', `invalid size: '${text}'`);
  const suffix = (match[2] ?? '').toLowerCase();
  const unit = suffix.length === 2 && suffix.endsWith('b') ? suffix.slice(0, 1) : suffix.endsWith('ib') ? suffix.slice(0, 1) : suffix;
  const factor = SIZE_SUFFIX[unit];
  if (factor === undefined) throw invalidArgument('INVALID_SIZE', `invalid suffix: '${match[2] ?? ''}'`);
  return Math.trunc(Number(match[1]) * factor);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Go's time.ParseDuration ("1m30s", "500ms"), in milliseconds. */
export function parseGoDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  const body = text.startsWith('-') ? text.slice(1) : text;
  while ((m = re.exec(body)) !== null) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 0);
    end = re.lastIndex;
  }
  if (body === '0') return 0;
  if (end === 0 || end !== body.length) throw invalidArgument('INVALID_DURATION', `time: invalid duration "${text}"`);
  return text.startsWith('-') ? -total : total;
}
