// Reading json-file logs for `docker logs`: rotated files oldest first, since/until, tail,
// then (follow) live entries from the writer with nothing lost or doubled in between.
import { readFile } from 'node:fs/promises';
import { errnoCode } from '../../../errors/berth-error.js';
import { rotatedPath, type JsonFileWriter, type LogEntry } from './json-file.js';

export interface ReadLogsOptions {
  stdout: boolean;
  stderr: boolean;
  /** unix nanoseconds */
  since?: number;
  until?: number;
  /** last N lines; undefined = all */
  tail?: number;
  follow: boolean;
  maxFiles: number;
}

export interface LogReader {
  /** entries already written (after filters) */
  past: LogEntry[];
  /** start delivering live entries (follow); returns a stop function */
  live(onEntry: (entry: LogEntry) => void): () => void;
}

export function entryNanos(entry: LogEntry): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(entry.time);
  if (!match?.[1]) return Date.parse(entry.time) * 1e6;
  return Date.parse(`${match[1]}Z`) * 1e6 + Number((match[2] ?? '').padEnd(9, '0').slice(0, 9));
}

async function readEntries(file: string, limit?: number): Promise<LogEntry[]> {
  let text: string;
  try {
    const bytes = await readFile(file);
    text = (limit === undefined ? bytes : bytes.subarray(0, limit)).toString('utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const entries: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (isEntry(value)) entries.push(value);
    } catch {
      // a torn last line after a crash: skip it
    }
  }
  return entries;
}

function isEntry(value: unknown): value is LogEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['log'] === 'string' && (v['stream'] === 'stdout' || v['stream'] === 'stderr') && typeof v['time'] === 'string';
}

export async function readLogs(file: string, options: ReadLogsOptions, writer: JsonFileWriter | undefined): Promise<LogReader> {
  const wanted = (e: LogEntry): boolean => (e.stream === 'stdout' ? options.stdout : options.stderr)
    && (options.since === undefined || entryNanos(e) > options.since)
    && (options.until === undefined || entryNanos(e) <= options.until);
  let buffered: LogEntry[] = [];
  let deliver: ((entry: LogEntry) => void) | undefined;
  let stop: () => void = () => undefined;
  let currentLimit: number | undefined;
  if (options.follow && writer) {
    await new Promise<void>((resolve) => {
      stop = writer.follow((entry) => { if (deliver) deliver(entry); else buffered.push(entry); }, (size) => {
        currentLimit = size;
        resolve();
      });
    });
  }
  let past: LogEntry[] = [];
  for (let i = options.maxFiles - 1; i >= 0; i--) past.push(...await readEntries(rotatedPath(file, i), i === 0 ? currentLimit : undefined));
  past = past.filter(wanted);
  if (options.tail !== undefined && options.tail >= 0) past = options.tail === 0 ? [] : past.slice(-options.tail);
  return {
    past,
    live(onEntry) {
      if (!options.follow || !writer) return () => undefined;
      deliver = (entry) => { if (wanted(entry)) onEntry(entry); };
      for (const entry of buffered) deliver(entry);
      buffered = [];
      return stop;
    },
  };
}
