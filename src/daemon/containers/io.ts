// `docker logs` and `docker attach` on top of the json-file log and the stream hub.
import type { Readable } from 'node:stream';
import { BerthError } from '../../errors/berth-error.js';
import { AsyncQueue } from './async-queue.js';
import { DEFAULT_LOG_OPTIONS, parseLogOptions, type LogEntry } from './logs/json-file.js';
import { readLogs } from './logs/read-logs.js';
import type { ContainerService } from './service.js';
import { DetachScanner, parseDetachKeys, type OutputStream } from './stream-hub.js';

export interface LogsRequest {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  since?: number;
  until?: number;
  tail?: number;
}

export interface LogsAnswer {
  tty: boolean;
  entries: AsyncIterable<LogEntry>;
}

export async function containerLogs(service: ContainerService, idOrName: string, request: LogsRequest, signal: AbortSignal): Promise<LogsAnswer> {
  const record = service.store.resolve(idOrName);
  if (record.HostConfig.LogConfig?.Type === 'none') {
    throw new BerthError('not_implemented', 'NO_LOGS', `configured logging driver does not support reading`);
  }
  const options = parseLogOptions(record.HostConfig.LogConfig?.Config, service.deps.logOptions ?? DEFAULT_LOG_OPTIONS);
  const process = service.runningProcess(record.Id);
  const follow = request.follow && process !== undefined;
  const reader = await readLogs(service.logPath(record.Id), { ...request, follow, maxFiles: options.maxFiles }, process?.logs);
  const queue = new AsyncQueue<LogEntry>();
  for (const entry of reader.past) queue.push(entry);
  if (!follow || !process) {
    queue.end();
    return { tty: record.Config.Tty === true, entries: queue };
  }
  const stop = reader.live((entry) => {
    if (request.until !== undefined && Date.parse(entry.time) * 1e6 > request.until) { finish(); return; }
    queue.push(entry);
  });
  const finish = (): void => { stop(); queue.end(); };
  void process.exit.then(finish, finish);
  signal.addEventListener('abort', finish, { once: true });
  return { tty: record.Config.Tty === true, entries: queue };
}

export interface AttachRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  stream: boolean;
  logs: boolean;
  detachKeys?: string;
}

export interface AttachClient {
  input: Readable | undefined;
  write(stream: OutputStream, chunk: Buffer): void;
}

/** Resolves when the session is over: container exit, detach keys, or the client gone. */
export async function attachContainer(service: ContainerService, idOrName: string, request: AttachRequest,
  client: AttachClient, signal: AbortSignal): Promise<void> {
  const record = service.store.resolve(idOrName);
  const keys = parseDetachKeysOrThrow(request.detachKeys);
  if (request.logs) {
    const past = await containerLogs(service, record.Id, { stdout: request.stdout, stderr: request.stderr, follow: false }, signal)
      .catch(() => undefined);
    if (past) for await (const entry of past.entries) client.write(entry.stream, Buffer.from(entry.log));
  }
  if (!request.stream) return;
  const hub = service.liveOf(record.Id).hub;
  await new Promise<void>((resolve) => {
    const cleanup: Array<() => void> = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      for (const step of cleanup) step();
      resolve();
    };
    cleanup.push(hub.addListener({
      data: (stream, chunk) => { if (stream === 'stdout' ? request.stdout : request.stderr) client.write(stream, chunk); },
      end: finish,
    }));
    if (request.stdin && client.input) pipeStdin(service, record.Id, client.input, keys, finish, cleanup);
    signal.addEventListener('abort', finish, { once: true });
    cleanup.push(() => signal.removeEventListener('abort', finish));
  });
}

function pipeStdin(service: ContainerService, id: string, input: Readable, keys: Buffer, finish: () => void, cleanup: Array<() => void>): void {
  const hub = service.liveOf(id).hub;
  const scanner = new DetachScanner(keys);
  const onData = (chunk: Buffer): void => {
    const { forward, detach } = scanner.push(chunk);
    if (forward.length > 0) hub.writeStdin(forward);
    if (detach) {
      const record = service.store.get(id);
      if (record) service.emit(record, 'detach');
      finish();
    }
  };
  const onEnd = (): void => {
    const record = service.store.get(id);
    if (record?.Config.StdinOnce) hub.closeStdin();
  };
  input.on('data', onData);
  input.on('end', onEnd);
  input.on('error', () => undefined);
  cleanup.push(() => { input.off('data', onData); input.off('end', onEnd); });
}

function parseDetachKeysOrThrow(spec: string | undefined): Buffer {
  try {
    return parseDetachKeys(spec);
  } catch (err) {
    throw new BerthError('invalid_argument', 'BAD_DETACH_KEYS', (err as Error).message);
  }
}
