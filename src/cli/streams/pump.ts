// Moving bytes between the terminal and a hijacked attach/exec connection: output
// (demultiplexed unless a TTY is used), stdin with half-close at EOF, client-side detach
// keys, raw mode and window size for a TTY.
import type { Duplex } from 'node:stream';
import type { Hijacked } from '../../client/transport.js';
import { StdDemuxer } from '../../client/stdcopy.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

export interface PumpOptions {
  tty: boolean;
  stdin: boolean;
  detachKeys?: string | undefined;
}

/** "ctrl-p,ctrl-q" -> bytes; docker's syntax: single characters or ctrl-<letter|@[\]^_> */
export function parseDetachKeys(spec: string | undefined): Buffer {
  const text = spec ?? 'ctrl-p,ctrl-q';
  const bytes = text.split(',').map((key) => {
    if (key.length === 1) return key.charCodeAt(0);
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(key.toLowerCase());
    if (ctrl?.[1] === undefined) throw new UsageError(`Unknown character: '${key}'`, 125, false);
    const ch = ctrl[1];
    return ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : ch.charCodeAt(0) - 64;
  });
  return Buffer.from(bytes);
}

/** Finds the detach sequence in a byte stream split across chunks. */
export class DetachMatcher {
  private matched = 0;
  constructor(private readonly keys: Buffer) {}

  /** The bytes to forward, and whether the sequence completed in this chunk. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      if (this.matched > 0) out.push(...this.keys.subarray(0, this.matched));
      this.matched = byte === this.keys[0] ? 1 : 0;
      if (this.matched === 0) out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

export type PumpEnd = 'eof' | 'detached';

export function terminalSize(ctx: CliContext): { rows: number; cols: number } | undefined {
  const out = ctx.streams.stdout;
  return out.isTTY && out.rows > 0 ? { rows: out.rows, cols: out.columns } : undefined;
}

/** Run the streams until the container's output ends or the user detaches. */
export async function pump(ctx: CliContext, conn: Hijacked, options: PumpOptions): Promise<PumpEnd> {
  const { socket } = conn;
  const stdin = ctx.streams.stdin;
  const useRaw = options.tty && options.stdin && stdin.isTTY;
  if (useRaw) stdin.setRawMode(true);
  return await new Promise<PumpEnd>((resolve, reject) => {
    let finished = false;
    const finish = (how: PumpEnd): void => {
      if (finished) return;
      finished = true;
      if (options.stdin) { stdin.off('data', onInput); stdin.off('end', onInputEnd); stdin.pause(); }
      if (useRaw) stdin.setRawMode(false);
      if (how === 'detached') socket.destroy();
      resolve(how);
    };
    const writeOut = makeOutputWriter(ctx, options.tty);
    const onData = (chunk: Buffer): void => {
      try { writeOut(chunk); } catch (err) { reject(err); }
    };
    if (conn.head.length > 0) onData(conn.head);
    socket.on('data', onData);
    socket.on('end', () => finish('eof'));
    socket.on('close', () => finish('eof'));
    socket.on('error', (err) => { if (!finished) reject(err); });
    const matcher = options.tty && stdin.isTTY ? new DetachMatcher(parseDetachKeys(options.detachKeys)) : undefined;
    const onInput = (chunk: Buffer): void => {
      if (matcher === undefined) { socket.write(chunk); return; }
      const { forward, detach } = matcher.feed(chunk);
      if (forward.length > 0) socket.write(forward);
      if (detach) finish('detached');
    };
    // At stdin's end, half-close so the container sees EOF but its output still flows.
    const onInputEnd = (): void => { halfClose(socket); };
    if (options.stdin) {
      stdin.on('data', onInput);
      stdin.on('end', onInputEnd);
      stdin.resume();
    }
  });
}

function halfClose(socket: Duplex): void {
  if (!socket.destroyed && socket.writable) socket.end();
}

function makeOutputWriter(ctx: CliContext, tty: boolean): (chunk: Buffer) => void {
  if (tty) return (chunk) => { ctx.streams.stdout.write(chunk); };
  const demux = new StdDemuxer((stream, data) => {
    (stream === 'stderr' ? ctx.streams.stderr : ctx.streams.stdout).write(data);
  });
  return (chunk) => demux.push(chunk);
}

/** Send the window size now and on every SIGWINCH; returns the function that stops it. */
export function trackWindowSize(ctx: CliContext, resize: (rows: number, cols: number) => Promise<void>): () => void {
  if (!ctx.streams.stdout.isTTY) return () => undefined;
  const send = (): void => {
    const size = terminalSize(ctx);
    if (size !== undefined) resize(size.rows, size.cols).catch(() => undefined);
  };
  send();
  process.on('SIGWINCH', send);
  return () => { process.off('SIGWINCH', send); };
}
