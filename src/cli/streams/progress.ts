// Pull/push/load progress from the daemon's JSON stream: one redrawn line per layer with
// a bar, bytes and speed on a terminal; plain lines otherwise (as docker prints them).
import type { Readable } from 'node:stream';
import { jsonValues } from '../../client/json-stream.js';
import { decodeProgress, type ProgressMessage } from '../../client/types.js';
import { BerthError } from '../../errors/berth-error.js';
import { humanSize } from '../format/units.js';

export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
  columns?: number;
}

function bar(current: number, total: number, width = 50): string {
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
}

export function progressLine(msg: ProgressMessage, speedPerSecond?: number): string {
  const prefix = msg.id === undefined ? '' : `${msg.id}: `;
  const detail = msg.progressDetail;
  let progress = '';
  if (detail?.total !== undefined && detail.total > 0 && detail.current !== undefined) {
    const speed = speedPerSecond === undefined ? '' : ` ${humanSize(speedPerSecond)}/s`;
    progress = ` ${bar(detail.current, detail.total)} ${humanSize(detail.current)}/${humanSize(detail.total)}${speed}`;
  } else if (msg.progress !== undefined) progress = ` ${msg.progress}`;
  return `${prefix}${msg.status ?? ''}${progress}`;
}

/** Print the stream; fails with the daemon's message if the stream reports an error. Returns the aux values. */
export async function renderProgress(stream: Readable, sink: ProgressSink, quiet = false): Promise<unknown[]> {
  const lines = new Map<string, number>();
  const started = new Map<string, number>();
  let printed = 0;
  const aux: unknown[] = [];
  for await (const value of jsonValues(stream)) {
    const msg = decodeProgress(value, 'progress');
    if (msg.error !== undefined || msg.errorDetail?.message !== undefined) {
      throw new BerthError('internal', 'PROGRESS_ERROR', msg.errorDetail?.message ?? msg.error ?? 'unknown error',
        { detail: { fromDaemon: false, code: msg.errorDetail?.code } });
    }
    if (msg.aux !== undefined) aux.push(msg.aux);
    if (quiet) continue;
    if (msg.stream !== undefined) { sink.write(msg.stream); continue; }
    if (msg.status === undefined) continue;
    if (!sink.isTTY) {
      // plain output skips the bytes-so-far lines, as docker does without a terminal
      if (msg.progressDetail?.current !== undefined && msg.progressDetail.total !== undefined) continue;
      sink.write(`${progressLine(msg)}\n`);
      continue;
    }
    const id = msg.id;
    const now = Date.now();
    const begun = id === undefined ? now : started.get(id) ?? now;
    if (id !== undefined && !started.has(id)) started.set(id, now);
    const seconds = (now - begun) / 1000;
    const speed = seconds > 0.2 && msg.progressDetail?.current !== undefined ? msg.progressDetail.current / seconds : undefined;
    const text = progressLine(msg, speed).slice(0, Math.max(20, (sink.columns ?? 200) - 1));
    const line = id === undefined ? undefined : lines.get(id);
    if (line === undefined) {
      sink.write(`${text}\n`);
      if (id !== undefined) lines.set(id, printed);
      printed++;
    } else {
      const up = printed - line;
      sink.write(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
    }
  }
  return aux;
}
