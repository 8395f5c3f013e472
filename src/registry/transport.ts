// HTTP for the registry client on node:http/https with keep-alive agents: bounded
// redirects (the Authorization header is dropped when a redirect leaves the origin, e.g.
// to a blob CDN), timeouts, size-bounded body reads, and messages that never carry
// credentials or signed query strings.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors/berth-error.js';
import { hostTlsOptions, type RegistryTlsPolicy } from './tls.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** bytes, or a factory so a streamed body can be created again (it is called once per send) */
  body?: Uint8Array | (() => Readable);
  /** Content-Length of a streamed body; omitted means chunked encoding */
  bodyLength?: number;
  /** follow 3xx answers (default: for GET and HEAD) */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** the URL that answered, after redirects */
  url: URL;
  body: Readable;
}

/** The one method the registry client needs; HttpTransport is the real one, tests may fake it. */
export interface Transport {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

export interface TransportOptions {
  maxRedirects?: number;
  /** idle socket timeout in ms */
  timeoutMs?: number;
  userAgent?: string;
  /** custom CAs, client certificates and unverified (insecure) hosts */
  tls?: RegistryTlsPolicy;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class HttpTransport implements Transport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly maxRedirects: number;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly tls: RegistryTlsPolicy | undefined;
  /** per-host agents for hosts with their own CAs, client certificates or no verification */
  private readonly hostAgents = new Map<string, Promise<https.Agent>>();

  constructor(options: TransportOptions = {}) {
    this.maxRedirects = options.maxRedirects ?? 10;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? 'berth/0.1';
    this.tls = options.tls;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    let url = req.url;
    let headers = { ...req.headers };
    const seen = new Set<string>();
    for (let hop = 0; ; hop++) {
      const response = await this.send({ ...req, url, headers });
      if (!follow || !REDIRECT_STATUSES.has(response.status)) return response;
      response.body.resume();
      const location = response.headers.location;
      if (location === undefined) return response;
      const next = resolveLocation(url, location);
      if (hop + 1 > this.maxRedirects || seen.has(next.href)) {
        throw new BerthError('unavailable', 'REGISTRY_REDIRECT_LOOP',
          `too many redirects for ${redactUrl(req.url)} (last to ${redactUrl(next)})`);
      }
      seen.add(next.href);
      if (next.origin !== url.origin) headers = withoutAuthorization(headers);
      url = next;
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    for (const agent of this.hostAgents.values()) agent.then((a) => a.destroy(), () => undefined);
    this.hostAgents.clear();
  }

  private async agentFor(url: URL): Promise<http.Agent> {
    if (url.protocol !== 'https:') return this.httpAgent;
    if (this.tls === undefined) return this.httpsAgent;
    let agent = this.hostAgents.get(url.host);
    if (agent === undefined) {
      agent = hostTlsOptions(url.host, this.tls).then((options) => {
        const custom = !options.rejectUnauthorized || options.ca !== undefined || options.cert !== undefined;
        return custom ? new https.Agent({ keepAlive: true, maxSockets: 16, ...options }) : this.httpsAgent;
      });
      this.hostAgents.set(url.host, agent);
      agent.catch(() => this.hostAgents.delete(url.host));
    }
    return await agent;
  }

  private async send(req: HttpRequest): Promise<HttpResponse> {
    const isHttps = req.url.protocol === 'https:';
    if (!isHttps && req.url.protocol !== 'http:') {
      throw new BerthError('invalid_argument', 'UNSUPPORTED_URL', `unsupported URL scheme in ${redactUrl(req.url)}`);
    }
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...req.headers };
    if (req.body instanceof Uint8Array) headers['content-length'] = String(req.body.byteLength);
    else if (req.body !== undefined && req.bodyLength !== undefined) headers['content-length'] = String(req.bodyLength);
    else if (req.body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['content-length'] = '0';
    const agent = await this.agentFor(req.url);
    return await new Promise<HttpResponse>((resolve, reject) => {
      const request = (isHttps ? https : http).request(req.url, {
        method: req.method,
        headers,
        agent,
      });
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
      });
      // the request's idle timeout stays armed while the response body streams, so a
      // stalled body ends in an error the blob download can resume from
      let source: Readable | undefined;
      request.on('error', (cause) => {
        source?.destroy(); // do not leave a file open behind a failed upload
        reject(unreachable(req, cause));
      });
      request.on('response', (body) => {
        resolve({ status: body.statusCode ?? 0, headers: body.headers, url: req.url, body });
      });
      if (req.body === undefined) request.end();
      else if (req.body instanceof Uint8Array) request.end(req.body);
      else {
        source = req.body();
        source.on('error', (cause) => request.destroy(cause));
        source.pipe(request);
      }
    });
  }
}

/** Resolves a Location header (absolute or relative) against the URL that sent it. */
export function resolveLocation(base: URL, location: string): URL {
  try {
    return new URL(location, base);
  } catch (cause) {
    throw new BerthError('unavailable', 'REGISTRY_BAD_RESPONSE', `invalid Location header from ${redactUrl(base)}`, { cause });
  }
}

/** Origin and path only: no user info, no query (signed URLs carry secrets there). */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Reads a whole body, failing once it passes `limit` bytes. */
export async function readBody(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy();
    throw new BerthError('invalid_argument', 'REGISTRY_RESPONSE_TOO_LARGE', `${what} is ${declared} bytes, more than the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) {
        response.body.destroy();
        throw new BerthError('invalid_argument', 'REGISTRY_RESPONSE_TOO_LARGE', `${what} is more than the limit of ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('unavailable', 'REGISTRY_CONNECTION_LOST', `connection lost while reading ${what}`, { cause: err });
  }
  return Buffer.concat(chunks, size);
}

/** Drains and drops a body so the connection goes back to the pool. */
export async function discardBody(response: HttpResponse): Promise<void> {
  if (response.body.readableEnded) return;
  await readBody(response, 64 * 1024, 'response').catch(() => response.body.destroy());
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== 'authorization') out[name] = value;
  return out;
}

function unreachable(req: HttpRequest, cause: unknown): BerthError {
  const code = errnoCode(cause);
  let reason = code ?? (cause instanceof Error ? cause.message : 'network error');
  const certificate = isCertificateFailure(code);
  if (certificate) reason = `the server's certificate is not trusted (${code ?? ''})`;
  return new BerthError('unavailable', 'REGISTRY_UNREACHABLE', `cannot reach ${redactUrl(req.url)}: ${reason}`,
    { cause, detail: { code, tls: certificate || isTlsFailure(code), certificate } });
}

/** OpenSSL's verification failures: the server answered TLS but its chain or name did not check out. */
export function isCertificateFailure(code: string | undefined): boolean {
  return code !== undefined && (code.includes('CERT') || code.startsWith('UNABLE_TO_') || code.includes('SIGNATURE')
    || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH');
}

/** Errors that mean "this is not an HTTPS server" (or not a trusted one). */
export function isTlsFailure(code: string | undefined): boolean {
  return code !== undefined && (code === 'EPROTO' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')
    || code === 'ECONNRESET' || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN');
}
