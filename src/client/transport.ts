// HTTP/1.1 to the daemon over a unix socket, TCP or TLS, with API version negotiation
// (/_ping's API-Version header, then /v1.xx/ prefixed paths), daemon errors turned into
// BerthErrors, and hijacked connections for attach and exec.
// Small calls (ping, JSON answers) are one exchange on a fresh connection (exchange.ts);
// node:http and node:tls are loaded only by the commands that stream or use TLS, so a
// `berth ps` does not pay for them at start-up.
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { BerthError, errnoCode, type ErrorKind } from '../errors/berth-error.js';
import { exchange, type Exchanged } from './exchange.js';
import type { Endpoint } from './host.js';
import type { TlsSettings } from './tls-config.js';

/** The newest API version this client speaks; the daemon may lower it. */
export const CLIENT_API_VERSION = '1.43';
export const MIN_API_VERSION = '1.24';

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface ApiRequest {
  method?: string;
  path: string;
  query?: Record<string, QueryValue>;
  /** a JSON body, or raw bytes / a stream sent as-is */
  json?: unknown;
  raw?: Buffer | Readable;
  headers?: Record<string, string>;
}

export interface Hijacked {
  socket: Duplex;
  /** bytes that arrived with the upgrade response */
  head: Buffer;
}

export function compareVersions(a: string, b: string): number {
  const [amaj = 0, amin = 0] = a.split('.').map(Number);
  const [bmaj = 0, bmin = 0] = b.split('.').map(Number);
  return amaj !== bmaj ? amaj - bmaj : amin - bmin;
}

export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

const STATUS_KINDS: Record<number, ErrorKind> = {
  304: 'not_modified', 400: 'invalid_argument', 401: 'unauthorized', 403: 'forbidden',
  404: 'not_found', 409: 'conflict', 501: 'not_implemented', 503: 'unavailable',
};

type Dial = () => Duplex;

export class ApiTransport {
  private version: string | undefined;
  private negotiation: Promise<string> | undefined;
  private dialer: Promise<Dial> | undefined;
  /** connections of streams and hijacks still open, ended by close() */
  private readonly open = new Set<Duplex>();

  constructor(readonly endpoint: Endpoint, pinnedVersion?: string, readonly tls?: TlsSettings) {
    this.version = pinnedVersion;
  }

  /** The API version in use: asks the daemon once, then remembers. */
  async apiVersion(): Promise<string> {
    if (this.version !== undefined) return this.version;
    this.negotiation ??= this.ping().then((headers) => {
      const server = headers['api-version'];
      const version = server !== undefined && /^\d+\.\d+$/.test(server) && compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
      this.version = version;
      return version;
    });
    return await this.negotiation;
  }

  /** GET /_ping; the answer's headers (lowercased names). */
  async ping(): Promise<Record<string, string>> {
    return (await this.exchange({ method: 'GET', path: '/_ping' }, false)).headers;
  }

  /** Send a request; a status >= 400 becomes a BerthError with the daemon's message. The body streams. */
  async request(req: ApiRequest): Promise<IncomingMessage> {
    const res = await this.send(req);
    if ((res.statusCode ?? 500) >= 400 || res.statusCode === 304) throw await daemonError(res);
    return res;
  }

  async json(req: ApiRequest): Promise<unknown> {
    const text = req.raw === undefined ? await this.small(req) : await readText(await this.request(req));
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new BerthError('internal', 'BAD_DAEMON_RESPONSE', `the daemon sent invalid JSON for ${req.path}`, { cause });
    }
  }

  /** Send a request and discard a successful body. */
  async call(req: ApiRequest): Promise<void> {
    if (req.raw === undefined) await this.small(req);
    else (await this.request(req)).resume();
  }

  /** Upgrade the connection to a raw stream (attach, exec start). */
  async hijack(req: ApiRequest): Promise<Hijacked> {
    const path = await this.versionedPath(req);
    const [http, dial] = await Promise.all([import('node:http'), this.dial()]);
    return await new Promise<Hijacked>((resolve, reject) => {
      const body = req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json));
      const clientReq = http.request({
        createConnection: () => this.track(dial()), method: req.method ?? 'POST', path,
        headers: { ...this.baseHeaders(body), Connection: 'Upgrade', Upgrade: 'tcp', ...req.headers },
      });
      clientReq.on('upgrade', (_res, socket, head) => resolve({ socket, head }));
      clientReq.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) { daemonError(res).then(reject, reject); return; }
        // An old daemon may answer 200 and stream on without switching protocols.
        resolve({ socket: res.socket, head: Buffer.alloc(0) });
      });
      clientReq.on('error', (err) => reject(this.connectionError(err)));
      clientReq.end(body);
    });
  }

  close(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  private track(socket: Duplex): Duplex {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    return socket;
  }

  private async versionedPath(req: ApiRequest): Promise<string> {
    return `/v${await this.apiVersion()}${req.path}${buildQuery(req.query)}`;
  }

  private baseHeaders(body: Buffer | undefined): Record<string, string> {
    const headers: Record<string, string> = { 'User-Agent': 'berth-cli', Host: this.endpoint.kind === 'unix' ? 'api.moby.localhost' : this.endpoint.hostname };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    return headers;
  }

  /** A small request answered in full: its body text, or the daemon's error. */
  private async small(req: ApiRequest): Promise<string> {
    const answer = await this.exchange(req, true);
    if (answer.status >= 400 || answer.status === 304) throw errorFromAnswer(answer.status, answer.statusText, answer.body.toString('utf8'));
    return answer.body.toString('utf8');
  }

  private async exchange(req: ApiRequest, versioned: boolean): Promise<Exchanged> {
    const path = versioned ? await this.versionedPath(req) : `${req.path}${buildQuery(req.query)}`;
    const body = req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json));
    const dial = await this.dial();
    const headers = { ...this.baseHeaders(body), Connection: 'close', ...req.headers };
    return await exchange(dial(), { method: req.method ?? 'GET', path, headers, ...(body === undefined ? {} : { body }) }, (err) => this.connectionError(err));
  }

  private async send(req: ApiRequest): Promise<IncomingMessage> {
    const path = await this.versionedPath(req);
    const body = req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json));
    const [http, dial] = await Promise.all([import('node:http'), this.dial()]);
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const clientReq = http.request({
        createConnection: () => this.track(dial()), method: req.method ?? 'GET', path,
        headers: { ...this.baseHeaders(body), ...(req.raw !== undefined ? { 'Content-Type': 'application/x-tar' } : {}), ...req.headers },
      });
      clientReq.on('response', resolve);
      clientReq.on('error', (err) => reject(this.connectionError(err)));
      if (req.raw !== undefined && !Buffer.isBuffer(req.raw)) {
        req.raw.on('error', (err) => clientReq.destroy(err));
        // a slow producer (import from a pipe) must not leave the daemon waiting for headers
        clientReq.flushHeaders();
        req.raw.pipe(clientReq);
      } else {
        clientReq.end(body ?? req.raw);
      }
    });
  }

  /** How to open a connection: TLS settings are read (and node:tls loaded) once, on first use. */
  private async dial(): Promise<Dial> {
    this.dialer ??= this.makeDialer();
    return await this.dialer;
  }

  private async makeDialer(): Promise<Dial> {
    const endpoint = this.endpoint;
    if (endpoint.kind === 'unix') return () => net.connect(endpoint.socketPath);
    if (this.tls === undefined) return () => net.connect({ host: endpoint.hostname, port: endpoint.port });
    const [tls, options] = await Promise.all([import('node:tls'), this.tlsOptions(this.tls)]);
    return () => tls.connect({ host: endpoint.hostname, port: endpoint.port, ...options });
  }

  private async tlsOptions(settings: TlsSettings): Promise<ConnectionOptions> {
    const { readFile } = await import('node:fs/promises');
    const { rootCertificates } = await import('node:tls');
    const read = async (file: string, what: string): Promise<Buffer> => {
      try {
        return await readFile(file);
      } catch (cause) {
        throw new BerthError('invalid_argument', 'TLS_FILE_UNREADABLE', `could not read ${what} ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
    };
    const options: ConnectionOptions = { rejectUnauthorized: settings.verify };
    if (net.isIP(this.endpoint.kind === 'tcp' ? this.endpoint.hostname : '') === 0 && this.endpoint.kind === 'tcp') options.servername = this.endpoint.hostname;
    if (settings.caFile !== undefined) options.ca = await read(settings.caFile, 'CA certificate');
    else if (settings.extraCaFile !== undefined) options.ca = [...rootCertificates, (await read(settings.extraCaFile, 'extra CA certificates')).toString('utf8')];
    if (settings.certFile !== undefined) options.cert = await read(settings.certFile, 'TLS certificate');
    if (settings.keyFile !== undefined) options.key = await read(settings.keyFile, 'TLS key');
    return options;
  }

  private connectionError(err: Error): Error {
    if (err instanceof BerthError) return err;
    const code = errnoCode(err);
    const where = this.endpoint.url;
    if (code === 'EACCES' || code === 'EPERM') {
      return new BerthError('forbidden', 'DAEMON_PERMISSION_DENIED',
        `permission denied while trying to connect to the daemon socket at ${where}`,
        { cause: err, hint: 'run as root, or join the group that owns the socket (for berthd: sudo usermod -aG berth $USER, then log in again)' });
    }
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
      return new BerthError('unavailable', 'DAEMON_NOT_RUNNING',
        `cannot connect to the daemon at ${where}: is the daemon running?`,
        { cause: err, hint: 'start it with: sudo berthd  (or point -H / BERTH_HOST / DOCKER_HOST at a running daemon)' });
    }
    return new BerthError('unavailable', 'DAEMON_CONNECTION_FAILED', `error talking to the daemon at ${where}: ${err.message}`, { cause: err });
  }
}

export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function daemonError(res: IncomingMessage): Promise<BerthError> {
  const text = await readText(res).catch(() => '');
  return errorFromAnswer(res.statusCode ?? 500, res.statusMessage ?? '', text);
}

function errorFromAnswer(status: number, statusText: string, text: string): BerthError {
  let message = text.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // a plain-text error body is used as-is
  }
  if (message === '') message = `${status} ${statusText}`.trim();
  return new BerthError(STATUS_KINDS[status] ?? 'internal', 'DAEMON_ERROR', message, { detail: { status, fromDaemon: true } });
}
