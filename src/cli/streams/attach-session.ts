// attach + (start) + wait, as `docker run` and `docker start -a` do it: attach first so
// no output is lost, ask for the exit before starting so a fast exit is not missed,
// forward signals (--sig-proxy) when there is no TTY, and return the container's status.
import { decodeWait } from '../../client/types.js';
import { readText } from '../../client/transport.js';
import type { CliContext } from '../context.js';
import { StatusExit } from '../errors.js';
import { pump, trackWindowSize } from './pump.js';

export interface AttachOptions {
  stdin: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty: boolean;
  detachKeys?: string | undefined;
  sigProxy: boolean;
  /** start the container after attaching (run, start -a) */
  start: boolean;
  /** --rm: wait until the daemon has removed it */
  autoRemove: boolean;
}

const PROXIED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export async function attachAndWait(ctx: CliContext, id: string, options: AttachOptions): Promise<number> {
  const client = ctx.client();
  const conn = await client.attach(id, {
    stdin: options.stdin, stdout: options.stdout ?? true, stderr: options.stderr ?? true, detachKeys: options.detachKeys,
  });
  const waiting = await client.waitResponse(id, options.start ? (options.autoRemove ? 'removed' : 'next-exit') : undefined);
  const exitCode = readText(waiting).then((text) => {
    const result = decodeWait(JSON.parse(text), 'wait');
    if (result.Error?.Message) throw new StatusExit(125, result.Error.Message);
    return result.StatusCode;
  });
  exitCode.catch(() => undefined);
  const stopProxy = options.sigProxy && !options.tty ? proxySignals(ctx, id) : () => undefined;
  let stopResize = (): void => undefined;
  try {
    if (options.start) {
      try {
        await client.startContainer(id, options.detachKeys);
      } catch (err) {
        if (options.autoRemove) await client.removeContainer(id, { force: true }).catch(() => undefined);
        throw err;
      }
    }
    if (options.tty) stopResize = trackWindowSize(ctx, (rows, cols) => client.resizeContainer(id, rows, cols));
    const end = await pump(ctx, conn, { tty: options.tty, stdin: options.stdin, detachKeys: options.detachKeys });
    if (end === 'detached') {
      waiting.destroy();
      return 0;
    }
    return await exitCode;
  } finally {
    stopProxy();
    stopResize();
    conn.socket.destroy();
  }
}

function proxySignals(ctx: CliContext, id: string): () => void {
  const handlers = PROXIED.map((signal) => {
    const handler = (): void => { ctx.client().killContainer(id, signal).catch(() => undefined); };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => { for (const [signal, handler] of handlers) process.off(signal, handler); };
}
