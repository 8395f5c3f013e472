// The streaming container routes: logs (raw or stdcopy-framed), attach and exec start
// (hijacked connections with stdin), framed by whether the container has a tty.
import type { Writable } from 'node:stream';
import type { ZodType, ZodTypeDef } from 'zod';
import { invalidArgument } from '../../../errors/berth-error.js';
import type { Exchange } from '../../exchange.js';
import { frame } from '../../stdcopy.js';
import { parseTimestampNanos } from '../../timestamps.js';
import type { ContainersBackend } from './backend.js';

function writer(out: Writable, tty: boolean): (stream: 'stdout' | 'stderr', chunk: Buffer) => void {
  return (stream, chunk) => {
    if (out.writableEnded || out.destroyed) return;
    out.write(tty ? chunk : frame(stream, chunk));
  };
}

export async function logsRoute(ex: Exchange, backend: ContainersBackend): Promise<void> {
  const stdout = ex.queryBool('stdout');
  const stderr = ex.queryBool('stderr');
  if (!stdout && !stderr) throw invalidArgument('NO_STREAM', 'Bad parameters: you must choose at least one stream');
  const tailRaw = ex.queryString('tail');
  let tail: number | undefined;
  if (tailRaw !== undefined && tailRaw !== '' && tailRaw !== 'all') {
    if (!/^-?\d+$/.test(tailRaw)) throw invalidArgument('BAD_TAIL', `invalid value for "tail": ${JSON.stringify(tailRaw)}`);
    tail = Number(tailRaw) < 0 ? undefined : Number(tailRaw);
  }
  const since = parseTimestampNanos(ex.queryString('since'), 'since');
  const until = parseTimestampNanos(ex.queryString('until'), 'until');
  const timestamps = ex.queryBool('timestamps');
  const answer = await backend.logs(ex.param('id'), {
    stdout, stderr, follow: ex.queryBool('follow'),
    ...(since === undefined || since === 0 ? {} : { since }), ...(until === undefined || until === 0 ? {} : { until }),
    ...(tail === undefined ? {} : { tail }),
  }, ex.signal);
  const contentType = answer.tty || !ex.versionAtLeast('1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  const out = ex.download(contentType);
  const write = writer(out, answer.tty);
  for await (const entry of answer.entries) {
    if (ex.signal.aborted) break;
    const text = timestamps ? `${entry.time} ${entry.log}` : entry.log;
    write(entry.stream, Buffer.from(text));
  }
  out.end();
}

export async function attachRoute(ex: Exchange, backend: ContainersBackend): Promise<void> {
  const id = ex.param('id');
  const tty = backend.isTty(id);
  const request = {
    stdin: ex.queryBool('stdin'), stdout: ex.queryBool('stdout'), stderr: ex.queryBool('stderr'),
    stream: ex.queryBool('stream'), logs: ex.queryBool('logs'),
    ...(ex.queryString('detachKeys') ? { detachKeys: ex.queryString('detachKeys') } : {}),
  };
  const hijacked = ex.hijack(!tty);
  try {
    await backend.attach(id, request, { input: hijacked.input, write: writer(hijacked.output, tty) }, ex.signal);
  } finally {
    hijacked.close();
  }
}

export async function execStartRoute(ex: Exchange, backend: ContainersBackend,
  schema: ZodType<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: number[] | null }, ZodTypeDef, unknown>): Promise<void> {
  const body = await ex.readJson(schema);
  const execId = ex.param('id');
  const tty = backend.execIsTty(execId);
  const consoleSize = body?.ConsoleSize && body.ConsoleSize.length === 2 ? body.ConsoleSize as [number, number] : undefined;
  if (body?.Detach) {
    const started = await backend.execStart(execId, { detach: true, ...(consoleSize ? { consoleSize } : {}) });
    void started.run(undefined).catch(() => undefined);
    ex.noContent(200);
    return;
  }
  backend.execCheckStartable(execId);
  // As dockerd: the 101 head goes out before the process starts. docker-py reads the head
  // through a buffered reader and drops output that arrives in the same read.
  const hijacked = ex.hijack(!tty);
  try {
    await hijacked.headSent;
    const started = await backend.execStart(execId, { detach: false, ...(consoleSize ? { consoleSize } : {}) })
      .catch((err: unknown) => {
        hijacked.output.write(`${err instanceof Error ? err.message : String(err)}\r\n`);
        return undefined;
      });
    await started?.run({ input: hijacked.input, write: writer(hijacked.output, tty) });
  } finally {
    hijacked.close();
  }
}
