// `GET /networks?filters=...` and `POST /networks/prune` filters, as dockerd reads them.
import { invalidArgument } from '../../errors/berth-error.js';
import { NetworkRecord } from './store.js';

const LIST_KEYS = new Set(['name', 'id', 'driver', 'type', 'label', 'scope', 'dangling']);
const PRUNE_KEYS = new Set(['label', 'label!', 'until']);

function labelMatches(labels: Record<string, string>, want: string): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return want in labels;
  return labels[want.slice(0, eq)] === want.slice(eq + 1);
}

function checkKeys(filters: Record<string, string[]>, allowed: Set<string>): void {
  for (const key of Object.keys(filters)) {
    if (!allowed.has(key)) throw invalidArgument('INVALID_FILTER', `invalid filter '${key}'`);
  }
}

export function matchesListFilters(network: NetworkRecord, filters: Record<string, string[]>, endpointCount: number): boolean {
  checkKeys(filters, LIST_KEYS);
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const values = filters[key];
    return values === undefined || values.length === 0 || values.some(test);
  };
  return any('name', (v) => network.name.includes(v))
    && any('id', (v) => network.id.startsWith(v))
    && any('driver', (v) => network.driver === v)
    && any('scope', (v) => v === 'local')
    && any('type', (v) => {
      if (v !== 'custom' && v !== 'builtin') throw invalidArgument('INVALID_FILTER', `invalid filter: 'type'='${v}'`);
      return (v === 'builtin') === network.predefined;
    })
    && (filters.label ?? []).every((v) => labelMatches(network.labels, v))
    && any('dangling', (v) => (v === 'true' || v === '1') === (endpointCount === 0 && !network.predefined));
}

/** "10m", "2h", a unix timestamp or an RFC 3339 date -> epoch milliseconds */
export function parseUntil(value: string, now = Date.now()): number {
  const duration = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(value);
  if (duration) {
    const factor = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[duration[2] as 'ns' | 'us' | 'ms' | 's' | 'm' | 'h'];
    return now - Number(duration[1]) * factor;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) throw invalidArgument('INVALID_FILTER', `invalid until filter "${value}"`);
  return date;
}

export function matchesPruneFilters(network: NetworkRecord, filters: Record<string, string[]>): boolean {
  checkKeys(filters, PRUNE_KEYS);
  if (!(filters.label ?? []).every((v) => labelMatches(network.labels, v))) return false;
  if ((filters['label!'] ?? []).some((v) => labelMatches(network.labels, v))) return false;
  for (const until of filters.until ?? []) {
    if (Date.parse(network.created) >= parseUntil(until)) return false;
  }
  return true;
}
