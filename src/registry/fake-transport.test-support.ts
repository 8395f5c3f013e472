// A scripted Transport for unit tests: each request is recorded and answered by the
// handler, whose body may be bytes or a stream that fails part-way (a dropped connection).
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpRequest, HttpResponse, Transport } from './transport.js';

export interface FakeAnswer {
  status: number;
  headers?: IncomingHttpHeaders;
  body?: Buffer | Readable;
}

export class FakeTransport implements Transport {
  readonly requests: HttpRequest[] = [];
  constructor(private readonly handler: (req: HttpRequest, index: number) => FakeAnswer | Promise<FakeAnswer>) {}

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const answer = await this.handler(req, this.requests.length - 1);
    const body = answer.body instanceof Readable ? answer.body : Readable.from(answer.body ? [answer.body] : []);
    return { status: answer.status, headers: answer.headers ?? {}, url: req.url, body };
  }

  close(): void {}
}

/** A body that delivers `bytes` and then fails like a reset connection. */
export function brokenBody(bytes: Buffer): Readable {
  return Readable.from((async function* () {
    yield bytes;
    throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  })());
}
