// The reporter: commands hand over rows (objects whose fields are docker's formatter
// fields) and this renders them as docker does: the default table, `table ...`, a Go
// template per row, `json`, or -q.
import { ESCAPES_HTML, parseTemplate } from './template.js';
import { tabwrite } from './table.js';

export interface ListSpec {
  /** the default format, e.g. "table {{.ID}}\t{{.Image}}" */
  defaultFormat: string;
  /** field name -> table header */
  headers: Record<string, string>;
  /** the Go type named in "can't evaluate field" errors */
  typeName: string;
  /** the format used by -q */
  quietFormat?: string;
}

/** Docker turns the two-character escapes \t and \n typed on a command line into tab and newline. */
export function unescapeFormat(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function renderList(rows: readonly object[], spec: ListSpec, format: string | undefined, quiet = false): string {
  let chosen = format ?? '';
  if (quiet) chosen = spec.quietFormat ?? '{{.ID}}';
  else if (chosen === '' || chosen === 'table') chosen = spec.defaultFormat;
  else if (chosen === 'json') chosen = '{{json .}}';
  const isTable = chosen.startsWith('table');
  const body = unescapeFormat(isTable ? chosen.slice('table'.length).trimStart() : chosen);
  const template = parseTemplate(body);
  let text = '';
  if (isTable) {
    const headerRow = new Proxy(spec.headers, { get: (target, key) => (typeof key === 'string' ? target[key] ?? headerOf(key) : undefined), has: () => true });
    text += `${template.execute(headerRow, spec.typeName)}\n`;
  }
  // Go's json marshals docker's formatter contexts as maps: keys sorted
  for (const row of rows) text += `${template.execute(sortedKeys(row), spec.typeName)}\n`;
  // an empty list still checks the template against the fields, as docker does
  if (rows.length === 0 && !isTable) template.execute(Object.fromEntries(Object.keys(spec.headers).map((k) => [k, ''])), spec.typeName);
  return isTable ? tabwrite(text) : text;
}

function sortedKeys(row: object): object {
  const sorted: Record<string | symbol, unknown> = {};
  Object.defineProperty(sorted, ESCAPES_HTML, { value: true, enumerable: false });
  for (const key of Object.keys(row).sort()) sorted[key] = (row as Record<string, unknown>)[key];
  for (const key of Object.getOwnPropertyNames(row)) {
    if (!(key in sorted)) Object.defineProperty(sorted, key, { value: (row as Record<string, unknown>)[key], enumerable: false });
  }
  return sorted;
}

/** docker derives a header from a field name it has no label for: "RunningFor" -> "RUNNING FOR" */
function headerOf(field: string): string {
  return field.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** `--format` applied to one value (inspect, version, info). */
export function renderOne(value: unknown, format: string, typeName = 'map'): string {
  if (format === 'json') return `${JSON.stringify(value)}\n`;
  return `${parseTemplate(unescapeFormat(format)).execute(value, typeName)}\n`;
}

/** docker inspect prints the daemon's JSON indented by four spaces (json.Indent keeps the daemon's text). */
export function indentJson(value: unknown): string {
  return JSON.stringify(value, null, 4);
}
