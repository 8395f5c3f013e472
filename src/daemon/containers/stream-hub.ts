// The stdio of one container as attach clients see it: output fanned out to every
// attached client, stdin fed by them into the running process. It outlives a single run
// (a client may attach before start, and across restarts).
import type { Writable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputListener {
  data(stream: OutputStream, chunk: Buffer): void;
  /** the process ended: no more output from this run */
  end(): void;
}

const MAX_PENDING_STDIN = 1024 * 1024;

export class StreamHub {
  private readonly listeners = new Set<OutputListener>();
  private stdin: Writable | undefined;
  private stdinClosed = false;
  /** input that arrived before the process started (attach comes before start) */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingClose = false;

  addListener(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  get listenerCount(): number { return this.listeners.size; }

  emit(stream: OutputStream, chunk: Buffer): void {
    for (const listener of this.listeners) listener.data(stream, chunk);
  }

  /** a new run started: its stdin (undefined without OpenStdin) */
  connectStdin(stdin: Writable | undefined): void {
    this.stdin = stdin;
    this.stdinClosed = false;
    stdin?.on('error', () => undefined);
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const chunk of pending) this.writeStdin(chunk);
    if (this.pendingClose) {
      this.pendingClose = false;
      this.closeStdin();
    }
  }

  /** the run ended */
  processEnded(): void {
    this.stdin = undefined;
    for (const listener of [...this.listeners]) listener.end();
  }

  get running(): boolean { return this.stdin !== undefined; }

  writeStdin(chunk: Buffer): void {
    if (!this.stdin) {
      if (this.pendingBytes + chunk.length <= MAX_PENDING_STDIN) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
      }
      return;
    }
    if (!this.stdinClosed && !this.stdin.destroyed) this.stdin.write(chunk);
  }

  closeStdin(): void {
    if (!this.stdin) {
      this.pendingClose = true;
      return;
    }
    if (!this.stdinClosed) {
      this.stdinClosed = true;
      this.stdin.end();
    }
  }
}

/** ctrl-p,ctrl-q unless configured: docker's --detach-keys syntax ("ctrl-a,x") */
export function parseDetachKeys(spec: string | undefined): Buffer {
  if (spec === undefined || spec === '') return Buffer.from([0x10, 0x11]);
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl?.[1]) {
      const c = ctrl[1].toLowerCase();
      const code = c === '@' ? 0 : c === '[' ? 27 : c === '\\' ? 28 : c === ']' ? 29 : c === '^' ? 30 : c === '_' ? 31 : c.charCodeAt(0) - 96;
      if (code < 0 || code > 31) throw new Error(`invalid detach key: ${key}`);
      bytes.push(code);
    } else if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
    } else {
      throw new Error(`invalid detach key: ${key}`);
    }
  }
  return Buffer.from(bytes);
}

/**
 * Watches client input for the detach sequence. push() returns the bytes to forward and
 * whether the sequence completed (a partial match is held back, as docker does).
 */
export class DetachScanner {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  push(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      if (this.matched > 0) { out.push(...this.keys.subarray(0, this.matched)); this.matched = 0; }
      if (byte === this.keys[0]) { this.matched = 1; continue; }
      out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
