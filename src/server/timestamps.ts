// Docker's API time arguments (since/until of events and logs): unix seconds with an
// optional fraction ("1700000000.5"), or RFC 3339. Returned as unix nanoseconds.
import { invalidArgument } from '../errors/berth-error.js';

export function parseTimestampNanos(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const unix = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(raw);
  if (unix?.[1] !== undefined) {
    const fraction = (unix[2] ?? '').padEnd(9, '0');
    return Number(unix[1]) * 1e9 + Number(fraction);
  }
  const millis = Date.parse(raw);
  if (Number.isNaN(millis)) throw invalidArgument('BAD_TIMESTAMP', `invalid value for ${name}: ${JSON.stringify(raw)}`);
  const fraction = /\.(\d{1,9})/.exec(raw)?.[1];
  const nanosWithinMilli = fraction ? Number(fraction.padEnd(9, '0').slice(3)) : 0;
  return millis * 1e6 + nanosWithinMilli;
}
