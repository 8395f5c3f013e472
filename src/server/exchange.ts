// One API call as the handlers see it: parsed path parameters, query, API version, the
// body (bounded), and the ways to answer: JSON, no content, a chunked JSON stream, a raw
// download, or a hijacked duplex stream (attach, exec) over an upgraded connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { ZodType, ZodTypeDef } from 'zod';
import { invalidArgument } from '../errors/berth-error.js';
import { versionAtLeast } from './api-version.js';
import { parseBool, parseFilters, type Filters } from './query.js';

/** the default bound on a JSON request body; huge bodies are refused with 413-ish 400 */
export const MAX_JSON_BODY = 4 * 1024 * 1024;

export interface UpgradeTarget {
  socket: Duplex;
  head: Buffer;
}

/** The streams of a hijacked exchange: what the client sends (stdin) and receives. */
export interface HijackedStream {
  input: Readable;
  output: Writable;
  /** settles once the response head has been handed to the kernel */
  headSent: Promise<void>;
  /** end the exchange: flush and close the connection (or the chunked response) */
  close(): void;
}

export interface JsonStream {
  write(value: unknown): void;
  end(): void;
  /** false once the client went away */
  readonly open: boolean;
}

export class Exchange {
  readonly query: URLSearchParams;
  private readonly aborter = new AbortController();
  private answered = false;
  private upgradeBody: Readable | undefined;

  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse | undefined,
    private readonly upgrade: UpgradeTarget | undefined,
    readonly path: string,
    readonly params: Record<string, string>,
    query: URLSearchParams,
    readonly apiVersion: string,
  ) {
    this.query = query;
    const socket = upgrade?.socket ?? req.socket;
    const onGone = (): void => { if (!this.aborter.signal.aborted) this.aborter.abort(); };
    socket.once('close', onGone);
    res?.once('close', () => { if (!res.writableFinished) onGone(); });
  }

  /** aborted when the client disconnects before the answer is complete */
  get signal(): AbortSignal { return this.aborter.signal; }
  get isUpgrade(): boolean { return this.upgrade !== undefined; }
  get hasAnswered(): boolean { return this.answered; }

  param(name: string): string {
    const value = this.params[name];
    if (value === undefined || value === '') throw invalidArgument('MISSING_PARAMETER', `missing path parameter ${name}`);
    return value;
  }

  queryString(name: string): string | undefined {
    const value = this.query.get(name);
    return value === null ? undefined : value;
  }

  queryBool(name: string, fallback = false): boolean {
    return parseBool(this.query.get(name), name, fallback);
  }

  queryInt(name: string, fallback?: number): number | undefined {
    const raw = this.query.get(name);
    if (raw === null || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw)) throw invalidArgument('BAD_QUERY', `invalid value for ${name}: ${JSON.stringify(raw)} is not an integer`);
    return Number(raw);
  }

  filters(): Filters {
    return parseFilters(this.query.get('filters'));
  }

  versionAtLeast(version: string): boolean {
    return versionAtLeast(this.apiVersion, version);
  }

  /** the request body as a stream (archives, image tarballs, build contexts) */
  bodyStream(): Readable {
    if (!this.upgrade) return this.req;
    this.upgradeBody ??= takeUpgradeBody(this.upgrade, contentLength(this.req));
    return this.upgradeBody;
  }

  async readBody(limit = MAX_JSON_BODY): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.bodyStream()) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buf.length;
      if (size > limit) throw invalidArgument('BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  }

  /** Parse and validate a JSON body; an empty body is `undefined` unless `required`. */
  async readJson<T>(schema: ZodType<T, ZodTypeDef, unknown>, options: { required?: boolean } = {}): Promise<T> {
    const raw = await this.readBody();
    const text = raw.toString('utf8').trim();
    let value: unknown = undefined;
    if (text !== '') {
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw invalidArgument('MALFORMED_JSON', `malformed json in request body: ${(cause as Error).message}`, { cause });
      }
    } else if (options.required) {
      throw invalidArgument('EMPTY_BODY', 'request body is empty, a json object is required');
    }
    return schema.parse(value);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(body) + '\n');
  }

  noContent(status = 204): void {
    this.send(status, {}, '');
  }

  text(status: number, body: string, headers: Record<string, string> = {}): void {
    this.send(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body);
  }

  /** Headers only (HEAD requests, archive stat). */
  head(status: number, headers: Record<string, string>): void {
    this.send(status, headers, '', true);
  }

  /** Start a chunked raw download (export, save, archive GET, logs). */
  download(contentType: string, headers: Record<string, string> = {}): Writable {
    const res = this.requireResponse();
    this.answered = true;
    res.writeHead(200, { 'Content-Type': contentType, ...headers });
    res.flushHeaders();
    return res;
  }

  /** Start a stream of JSON messages, one per line (events, pull progress, stats). */
  jsonStream(contentType = 'application/json'): JsonStream {
    const res = this.requireResponse();
    this.answered = true;
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    const signal = this.signal;
    return {
      write(value: unknown): void {
        if (!signal.aborted && !res.writableEnded) res.write(JSON.stringify(value) + '\n');
      },
      end(): void {
        if (!res.writableEnded) res.end();
      },
      get open(): boolean { return !signal.aborted && !res.writableEnded; },
    };
  }

  /**
   * Take over the connection: `101 UPGRADED` when the client asked to upgrade (the docker
   * CLI, dockerode and docker-py do), else a plain 200 streamed response whose request
   * body serves as input.
   */
  hijack(multiplexed: boolean): HijackedStream {
    this.answered = true;
    const contentType = multiplexed && this.versionAtLeast('1.42')
      ? 'application/vnd.docker.multiplexed-stream'
      : 'application/vnd.docker.raw-stream';
    if (this.upgrade) {
      const { socket } = this.upgrade;
      // handlers read any request body (exec start's JSON) before hijacking
      const input = restOfUpgrade(this.upgrade);
      const headSent = new Promise<void>((resolve) => {
        socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`, () => resolve());
      });
      return {
        input,
        output: socket,
        headSent,
        close: () => { socket.end(); },
      };
    }
    const res = this.requireResponse();
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    return { input: this.req, output: res, headSent: Promise.resolve(), close: () => { res.end(); } };
  }

  private requireResponse(): ServerResponse {
    if (!this.res) throw invalidArgument('UPGRADE_NOT_SUPPORTED', `${this.path} cannot be served over an upgraded connection`);
    return this.res;
  }

  private send(status: number, headers: Record<string, string>, body: string, headOnly = false): void {
    this.answered = true;
    if (this.res) {
      if (this.res.headersSent) {
        this.res.end();
        return;
      }
      const length = Buffer.byteLength(body);
      this.res.writeHead(status, headOnly ? headers : { ...headers, 'Content-Length': String(length) });
      this.res.end(headOnly ? undefined : body);
      return;
    }
    const socket = this.upgrade?.socket;
    if (!socket || socket.destroyed) return;
    const lines = [`HTTP/1.1 ${status} ${statusText(status)}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', ''];
    socket.end(lines.join('\r\n') + body);
  }
}

function statusText(status: number): string {
  const texts: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented',
    503: 'Service Unavailable' };
  return texts[status] ?? 'Status';
}

function contentLength(req: IncomingMessage): number {
  const raw = req.headers['content-length'];
  return raw && /^\d+$/.test(raw) ? Number(raw) : 0;
}

/** Read exactly the request body out of an upgraded socket, leaving what follows (stdin). */
function takeUpgradeBody(target: UpgradeTarget, length: number): Readable {
  const body = new PassThrough();
  let remaining = length;
  const fromHead = target.head.subarray(0, remaining);
  remaining -= fromHead.length;
  const leftover = target.head.subarray(fromHead.length);
  target.head = leftover;
  if (fromHead.length > 0) body.write(fromHead);
  if (remaining === 0) {
    body.end();
    return body;
  }
  const { socket } = target;
  const onData = (chunk: Buffer): void => {
    const take = chunk.subarray(0, remaining);
    remaining -= take.length;
    body.write(take);
    if (remaining === 0) {
      socket.off('data', onData);
      socket.pause();
      const rest = chunk.subarray(take.length);
      if (rest.length > 0) socket.unshift(rest);
      body.end();
    }
  };
  socket.on('data', onData);
  socket.once('end', () => body.end());
  socket.resume();
  return body;
}

/** What the client sends after the request (stdin of attach/exec). */
function restOfUpgrade(target: UpgradeTarget): Readable {
  const input = new PassThrough();
  if (target.head.length > 0) input.write(target.head);
  target.head = Buffer.alloc(0);
  target.socket.pipe(input);
  target.socket.resume();
  return input;
}
