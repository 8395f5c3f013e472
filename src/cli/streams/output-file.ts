// Where save/export write their archive: a file (-o) or stdout, never a terminal.
import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from '../context.js';
import { StatusExit } from '../errors.js';

/** Checked before asking the daemon, so nothing is streamed for nothing. */
export function refuseTerminal(ctx: CliContext, output: string | undefined, what: string): void {
  if ((output === undefined || output === '-') && ctx.streams.stdout.isTTY) {
    throw new StatusExit(1, `cowardly refusing to ${what} to a terminal. Use the -o flag or redirect`);
  }
}

export async function writeArchive(ctx: CliContext, body: Readable, output: string | undefined, what: string): Promise<void> {
  if (output === undefined || output === '-') {
    refuseTerminal(ctx, output, what);
    await pipeline(body, ctx.streams.stdout, { end: false });
    return;
  }
  await pipeline(body, createWriteStream(output));
}

export function openInput(ctx: CliContext, input: string | undefined): Readable {
  if (input === undefined || input === '-') {
    if (ctx.streams.stdin.isTTY) throw new StatusExit(1, 'requested load from stdin, but stdin is empty');
    return ctx.streams.stdin;
  }
  const stream = createReadStream(input);
  return stream;
}
