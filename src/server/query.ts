// Query-string conventions of the Docker API: booleans as 1/true/True, filters as a JSON
// map of name -> values (also the legacy name -> {value: true} form).
import { invalidArgument } from '../errors/berth-error.js';

export type Filters = Map<string, string[]>;

export function parseBool(raw: string | null | undefined, name: string, fallback = false): boolean {
  if (raw === null || raw === undefined || raw === '') return fallback;
  const lower = raw.toLowerCase();
  if (lower === '1' || lower === 'true' || lower === 'yes') return true;
  if (lower === '0' || lower === 'false' || lower === 'no') return false;
  throw invalidArgument('BAD_QUERY', `invalid boolean for ${name}: ${JSON.stringify(raw)}`);
}

export function parseFilters(raw: string | null | undefined): Filters {
  const filters: Filters = new Map();
  if (raw === null || raw === undefined || raw.trim() === '') return filters;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    throw invalidArgument('BAD_FILTERS', `invalid filters: ${raw}`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('BAD_FILTERS', `invalid filters: ${raw} is not a json object`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) {
      filters.set(key, value.map((v) => {
        if (typeof v !== 'string') throw invalidArgument('BAD_FILTERS', `invalid filter ${key}: values must be strings`);
        return v;
      }));
    } else if (typeof value === 'object' && value !== null) {
      filters.set(key, Object.entries(value).filter(([, on]) => on === true).map(([v]) => v));
    } else {
      throw invalidArgument('BAD_FILTERS', `invalid filter ${key}: expected a list of values`);
    }
  }
  return filters;
}

/** Refuse filter names a route does not know, as dockerd does ("invalid filter 'x'"). */
export function checkFilterNames(filters: Filters, allowed: readonly string[]): void {
  for (const key of filters.keys()) {
    if (!allowed.includes(key)) throw invalidArgument('BAD_FILTERS', `invalid filter '${key}'`);
  }
}
