// One HTTP/1.1 request and its whole answer on a fresh connection, without node:http.
// Most CLI calls are a small request and a small JSON answer; node:http costs several
// milliseconds of module loading and agent set-up on every start (about a tenth of
// `berth ps`), this costs none. Streams and hijacks still go through node:http.
import type { Duplex } from 'node:stream';
import { BerthError } from '../errors/berth-error.js';

export interface Exchanged {
  status: number;
  statusText: string;
  /** lowercased names; repeated headers joined with ", " as node:http does */
  headers: Record<string, string>;
  body: Buffer;
}

export interface ExchangeRequest {
  method: string;
  /** path and query, already encoded */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A daemon answer larger than this is not a small JSON document: refuse it. */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 256 * 1024 * 1024;

function protocolError(message: string): BerthError {
  return new BerthError('unavailable', 'BAD_HTTP_RESPONSE', `the daemon sent a malformed HTTP response: ${message}`);
}

/** The request head; refuses what node:http would refuse (control characters in the path or a header). */
export function requestHead(req: ExchangeRequest): string {
  if (!/^[\x21-\x7e]+$/.test(req.path)) throw new BerthError('invalid_argument', 'INVALID_REQUEST_PATH', `request path contains unescaped characters: ${JSON.stringify(req.path)}`);
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(req.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new BerthError('invalid_argument', 'INVALID_HEADER', `header ${JSON.stringify(name)} contains a line break`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/** Incremental parser of one response: status line, headers, then a length, chunked or close-delimited body. */
export class ResponseParser {
  private buffered: Buffer = Buffer.alloc(0);
  private head: Omit<Exchanged, 'body'> | undefined;
  private readonly chunks: Buffer[] = [];
  private bodyBytes = 0;
  private remaining: number | undefined;
  private chunked = false;
  /** in chunked mode: bytes of the current chunk still to come (+2 for its CRLF), or -1 before a size line */
  private chunkLeft = -1;
  private finished = false;

  constructor(private readonly bodyless = false) {}

  get done(): boolean {
    return this.finished;
  }

  /** Feed bytes; true once the response is complete. */
  push(data: Buffer): boolean {
    if (this.finished) return true;
    this.buffered = this.buffered.length === 0 ? data : Buffer.concat([this.buffered, data]);
    if (this.head === undefined && !this.parseHead()) return false;
    if (this.chunked) this.parseChunks();
    else this.takeBody();
    return this.finished;
  }

  /** The connection closed: a close-delimited body ends here, anything else is truncated. */
  end(): Exchanged {
    if (!this.finished && this.head !== undefined && this.remaining === undefined && !this.chunked) this.finished = true;
    if (!this.finished) throw protocolError(this.head === undefined ? 'the connection closed before the headers' : 'the connection closed in the middle of the body');
    return this.result();
  }

  result(): Exchanged {
    if (this.head === undefined || !this.finished) throw protocolError('incomplete response');
    return { ...this.head, body: Buffer.concat(this.chunks) };
  }

  private parseHead(): boolean {
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.buffered.length > MAX_HEADER_BYTES) throw protocolError('headers too large');
      return false;
    }
    const lines = this.buffered.subarray(0, end).toString('latin1').split('\r\n');
    this.buffered = this.buffered.subarray(end + 4);
    const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (status === null) throw protocolError(`bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw protocolError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const code = Number(status[1]);
    this.head = { status: code, statusText: status[2] ?? '', headers };
    if (this.bodyless || code === 204 || code === 304 || (code >= 100 && code < 200)) {
      this.finished = true;
    } else if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      this.chunked = true;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) throw protocolError(`bad Content-Length ${JSON.stringify(headers['content-length'])}`);
      this.remaining = length;
    }
    return true;
  }

  private append(data: Buffer): void {
    this.bodyBytes += data.length;
    if (this.bodyBytes > MAX_BODY_BYTES) throw protocolError('body too large');
    if (data.length > 0) this.chunks.push(data);
  }

  private takeBody(): void {
    const data = this.buffered;
    this.buffered = Buffer.alloc(0);
    if (this.remaining === undefined) { this.append(data); return; }
    this.append(data.subarray(0, this.remaining));
    this.remaining -= Math.min(this.remaining, data.length);
    if (this.remaining === 0) this.finished = true;
  }

  private parseChunks(): void {
    for (;;) {
      if (this.chunkLeft < 0) {
        const eol = this.buffered.indexOf('\r\n');
        if (eol < 0) return;
        const sizeText = this.buffered.subarray(0, eol).toString('latin1').split(';')[0]?.trim() ?? '';
        if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw protocolError(`bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
        this.buffered = this.buffered.subarray(eol + 2);
        const size = parseInt(sizeText, 16);
        if (size === 0) { this.finished = true; return; } // trailers, if any, are not read
        this.chunkLeft = size + 2;
      }
      if (this.buffered.length === 0) return;
      const take = Math.min(this.chunkLeft, this.buffered.length);
      // the last two bytes of a chunk are its CRLF, not data
      const dataEnd = Math.min(take, Math.max(0, this.chunkLeft - 2));
      this.append(this.buffered.subarray(0, dataEnd));
      this.buffered = this.buffered.subarray(take);
      this.chunkLeft -= take;
      if (this.chunkLeft === 0) this.chunkLeft = -1;
    }
  }
}

/** Send the request on a connected (or connecting) socket and collect the answer; the socket is closed after. */
export async function exchange(socket: Duplex, req: ExchangeRequest, onError: (err: Error) => Error): Promise<Exchanged> {
  const head = Buffer.from(requestHead(req), 'latin1');
  const parser = new ResponseParser(req.method === 'HEAD');
  return await new Promise<Exchanged>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: Exchanged): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err !== undefined) reject(err);
      else if (value !== undefined) resolve(value);
    };
    socket.on('data', (data: Buffer) => {
      try {
        if (parser.push(data)) finish(undefined, parser.result());
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const ended = (): void => {
      try {
        finish(undefined, parser.end());
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    };
    socket.on('end', ended);
    socket.on('close', ended);
    socket.on('error', (err) => finish(onError(err)));
    socket.write(req.body === undefined ? head : Buffer.concat([head, req.body]));
  });
}
