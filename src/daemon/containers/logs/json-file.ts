// Docker's json-file log driver: one JSON object per line {"log","stream","time"}, lines
// split at '\n' (partial lines flushed at 16 KiB), rotated by size and count. Writing
// applies backpressure instead of dropping: a container outrunning the disk is paused.
import { fstatSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { invalidArgument } from '../../../errors/berth-error.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  log: string;
  time: string;
}

export interface LogOptions {
  /** bytes per file before rotating */
  maxSize: number;
  /** files kept, current one included */
  maxFiles: number;
}

/** berth bounds logs by default (docker does not): 5 files of 10 MiB */
export const DEFAULT_LOG_OPTIONS: LogOptions = { maxSize: 10 * 1024 * 1024, maxFiles: 5 };

const PARTIAL_LIMIT = 16 * 1024;
const HIGH_WATER = 4 * 1024 * 1024;

/** --log-opt max-size=10m max-file=3 (docker's units: k, m, g) */
export function parseLogOptions(config: Record<string, string> | null | undefined, base: LogOptions = DEFAULT_LOG_OPTIONS): LogOptions {
  const options = { ...base };
  for (const [key, value] of Object.entries(config ?? {})) {
    if (key === 'max-size') {
      const match = /^(\d+)([kmg]?)b?$/i.exec(value.trim());
      if (!match?.[1]) throw invalidArgument('BAD_LOG_OPT', `invalid max-size for json-file: ${value}`);
      const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? 1;
      options.maxSize = Number(match[1]) * unit;
      if (options.maxSize <= 0) throw invalidArgument('BAD_LOG_OPT', 'max-size must be a positive number');
    } else if (key === 'max-file') {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw invalidArgument('BAD_LOG_OPT', `invalid max-file for json-file: ${value}`);
      options.maxFiles = Number(value);
    } else if (!['compress', 'labels', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size'].includes(key)) {
      throw invalidArgument('BAD_LOG_OPT', `unknown log opt '${key}' for json-file log driver`);
    }
  }
  return options;
}

export function rotatedPath(file: string, index: number): string {
  return index === 0 ? file : `${file}.${index}`;
}

export class JsonFileWriter {
  private handle: FileHandle | undefined;
  private size = 0;
  private queue: Buffer[] = [];
  private queued = 0;
  private pumping = false;
  private readonly partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  private readonly listeners = new Set<(entry: LogEntry) => void>();
  private idleWaiters: Array<() => void> = [];
  private drainWaiters: Array<() => void> = [];
  private failure: Error | undefined;

  private constructor(readonly file: string, private readonly options: LogOptions) {}

  static async open(file: string, options: LogOptions): Promise<JsonFileWriter> {
    const writer = new JsonFileWriter(file, options);
    writer.handle = await open(file, 'a', 0o640);
    // fstat of the file just opened (its inode in memory): synchronous, microseconds, where a
    // stat through the thread pool was a second round trip before every start
    writer.size = fstatSync(writer.handle.fd).size;
    return writer;
  }

  /**
   * Take a chunk of container output. Returns false when the caller should pause its
   * source until onDrain() fires.
   */
  write(stream: LogStream, chunk: Buffer): boolean {
    let text = this.partial[stream] + chunk.toString('utf8');
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      this.emit(stream, text.slice(0, newline + 1));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    if (text.length >= PARTIAL_LIMIT) {
      this.emit(stream, text);
      text = '';
    }
    this.partial[stream] = text;
    return this.queued < HIGH_WATER;
  }

  onDrain(callback: () => void): void {
    if (this.queued < HIGH_WATER) callback();
    else this.drainWaiters.push(callback);
  }

  /**
   * Follow live entries. `ready` runs once everything before is on disk, with the size of
   * the current file at that moment: a reader reads up to there and takes the rest live.
   */
  follow(listener: (entry: LogEntry) => void, ready: (currentFileSize: number) => void): () => void {
    const attachNow = (): void => { this.listeners.add(listener); ready(this.size); };
    if (!this.pumping && this.queue.length === 0) attachNow();
    else this.idleWaiters.push(attachNow);
    return () => { this.listeners.delete(listener); };
  }

  async close(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.emit(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
    await new Promise<void>((resolve) => {
      if (!this.pumping && this.queue.length === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    this.listeners.clear();
    await this.handle?.close();
    this.handle = undefined;
  }

  get error(): Error | undefined { return this.failure; }

  private emit(stream: LogStream, log: string): void {
    const entry: LogEntry = { log, stream, time: new Date().toISOString().replace('Z', `${String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0')}Z`) };
    const line = Buffer.from(JSON.stringify(entry) + '\n');
    this.queue.push(line);
    this.queued += line.length;
    for (const listener of this.listeners) listener(entry);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const batch = Buffer.concat(this.queue);
        this.queue = [];
        if (this.size > 0 && this.size + batch.length > this.options.maxSize) await this.rotate();
        if (this.handle) await this.handle.write(batch);
        this.size += batch.length;
        this.queued -= batch.length;
        if (this.queued < HIGH_WATER) this.releaseDrain();
      }
    } catch (err) {
      // a full disk must not kill the container; the entries are kept for retry
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.queued = 0;
    } finally {
      this.pumping = false;
      this.releaseDrain();
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  private releaseDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    const { file, options } = this;
    if (options.maxFiles <= 1) {
      await rm(file, { force: true });
    } else {
      await rm(rotatedPath(file, options.maxFiles - 1), { force: true });
      for (let i = options.maxFiles - 2; i >= 0; i--) {
        await rename(rotatedPath(file, i), rotatedPath(file, i + 1)).catch(() => undefined);
      }
    }
    this.handle = await open(file, 'a', 0o640);
    this.size = 0;
  }
}
