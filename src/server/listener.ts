// Where the API listens: unix sockets (mode 0660, group `berth` when it exists) and TCP,
// which is refused off loopback unless TLS with client verification is configured.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { invalidArgument, BerthError, errnoCode } from '../errors/berth-error.js';
import type { Router, Logger } from './router.js';
import { activatedFds } from './socket-activation.js';

/** Paths of PEM files, as dockerd's --tlscacert/--tlscert/--tlskey name them. */
export interface TlsOptions {
  verify: boolean;
  ca?: string;
  cert: string;
  key: string;
}

export interface ListenOptions {
  hosts: readonly string[];
  tls?: TlsOptions;
  /** group owning unix sockets, when it exists on the host */
  socketGroup?: string;
}

export interface ApiListener {
  addresses: string[];
  close(): Promise<void>;
}

export type ParsedHost = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseHost(spec: string): ParsedHost {
  if (spec.startsWith('unix://')) {
    const socketPath = spec.slice('unix://'.length);
    if (!path.isAbsolute(socketPath)) throw invalidArgument('BAD_HOST', `invalid -H ${spec}: the socket path must be absolute`);
    return { kind: 'unix', path: socketPath };
  }
  if (spec.startsWith('tcp://')) {
    const url = new URL(spec.replace(/^tcp:/, 'http:'));
    const port = url.port === '' ? 2375 : Number(url.port);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port };
  }
  if (spec.startsWith('/')) return { kind: 'unix', path: spec };
  throw invalidArgument('BAD_HOST', `invalid -H ${spec}: use unix:///path or tcp://host:port`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Listen options checked and loaded: every host parsed, the TLS files read (once, shared by
 * every tcp host). Made before the daemon makes anything, so that a flag mistake stops it first.
 */
export interface PreparedListen {
  readonly prepared: true;
  readonly hosts: readonly PreparedHost[];
  readonly socketGroup?: string;
}

export type PreparedHost =
  | { spec: string; kind: 'activated' }
  | { spec: string; kind: 'unix'; path: string }
  /** secure: the https options, or undefined for plain http on loopback */
  | { spec: string; kind: 'tcp'; host: string; port: number; secure: https.ServerOptions | undefined };

/** How a PEM file is read (a recording fake in unit tests). */
export type PemReader = (file: string) => Buffer;

/**
 * What a listen on these hosts would refuse (a bad -H, tcp off loopback without tls, an
 * unreadable certificate) as an error, found before the daemon makes anything: as dockerd, a
 * flag mistake must not leave a default bridge or firewall table behind. The certificate and
 * keys are read here, and only here.
 */
export function prepareListen(options: ListenOptions, readPemFile: PemReader = readFileSync): PreparedListen {
  let secure: https.ServerOptions | undefined;
  const hosts = options.hosts.map((spec): PreparedHost => {
    if (spec.startsWith('fd://')) return { spec, kind: 'activated' };
    const host = parseHost(spec);
    if (host.kind === 'unix') return { spec, ...host };
    if (options.tls) secure ??= tlsServerOptions(options.tls, readPemFile);
    else if (!isLoopback(host.host)) {
      throw invalidArgument('INSECURE_TCP', `refusing to listen on tcp://${host.host}:${host.port} without tls`,
        { hint: 'use --tlsverify with --tlscacert/--tlscert/--tlskey, or a loopback address' });
    }
    return { spec, ...host, secure: options.tls ? secure : undefined };
  });
  return { prepared: true, hosts, ...(options.socketGroup !== undefined ? { socketGroup: options.socketGroup } : {}) };
}

/** Listens on every host; options not prepared yet are prepared here. */
export async function listenApi(router: Router, options: ListenOptions | PreparedListen, log: Logger): Promise<ApiListener> {
  const plan = 'prepared' in options ? options : prepareListen(options);
  const servers: net.Server[] = [];
  const addresses: string[] = [];
  const unixPaths: string[] = [];
  const sockets = new Set<Duplex>();
  try {
    for (const host of plan.hosts) {
      if (host.kind === 'activated') {
        for (const fd of activatedFds(host.spec)) {
          // systemd owns the socket (berthd.socket): local, like a unix socket
          const server = createHttpServer(router, undefined, sockets);
          await listen(server, { fd });
          servers.push(server);
          addresses.push(`fd://${fd}`);
          log.info(`api listening on activated socket fd ${fd}`);
        }
        continue;
      }
      const server = createHttpServer(router, host.kind === 'tcp' ? host.secure : undefined, sockets);
      if (host.kind === 'unix') {
        await prepareSocketPath(host.path);
        await listen(server, { path: host.path });
        unixPaths.push(host.path);
        await chmod(host.path, 0o660);
        const gid = await groupId(plan.socketGroup ?? 'berth');
        if (gid !== undefined) await chown(host.path, 0, gid).catch(() => undefined);
      } else {
        await listen(server, { host: host.host, port: host.port });
      }
      servers.push(server);
      addresses.push(host.spec);
      log.info(`api listening on ${host.spec}`);
    }
  } catch (err) {
    await closeAll(servers, sockets, unixPaths);
    throw err;
  }
  return { addresses, close: async () => { await closeAll(servers, sockets, unixPaths); } };
}

/**
 * The https options of the tcp listeners: the files read once, and parsed here as a TLS context
 * too, so that a file that is not a certificate or key (or a key that does not match) stops the
 * daemon before it makes anything, like one that cannot be read. (A server cannot be handed
 * that context: node's https server builds its own from the same bytes, ~1 ms.)
 */
function tlsServerOptions(tls: TlsOptions, readPemFile: PemReader): https.ServerOptions {
  const readPem = (file: string, flag: string): Buffer => {
    try {
      return readPemFile(file);
    } catch (err) {
      throw invalidArgument('TLS_CONFIG', `cannot read ${flag} ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
    }
  };
  const material = {
    cert: readPem(tls.cert, '--tlscert'), key: readPem(tls.key, '--tlskey'),
    ...(tls.ca !== undefined ? { ca: readPem(tls.ca, '--tlscacert') } : {}),
  };
  try {
    createSecureContext(material);
  } catch (err) {
    const files = [`--tlscert ${tls.cert}`, `--tlskey ${tls.key}`, ...(tls.ca !== undefined ? [`--tlscacert ${tls.ca}`] : [])].join(', ');
    throw invalidArgument('TLS_CONFIG', `invalid tls files (${files}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { ...material, requestCert: tls.verify, rejectUnauthorized: tls.verify };
}

function createHttpServer(router: Router, secure: https.ServerOptions | undefined, sockets: Set<Duplex>): net.Server {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => { void router.handleRequest(req, res); };
  const server: http.Server = secure ? https.createServer(secure, onRequest) : http.createServer(onRequest);
  // long streams (events, logs -f, attach) must not be cut by Node's default timeouts
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    void router.handleUpgrade(req, { socket, head });
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}

async function listen(server: net.Server, where: net.ListenOptions | { fd: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => { server.off('error', reject); resolve(); });
  });
}

/** A socket file left by a dead daemon is removed; one a live daemon answers on is a conflict. */
async function prepareSocketPath(socketPath: string): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true });
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path: socketPath });
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (alive) {
    throw new BerthError('conflict', 'SOCKET_IN_USE', `socket ${socketPath} is in use by another daemon`,
      { hint: 'give this berthd its own -H unix:///path' });
  }
  await unlink(socketPath).catch((err: unknown) => { if (errnoCode(err) !== 'ENOENT') throw err; });
}

async function groupId(name: string): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

async function closeAll(servers: net.Server[], sockets: Set<Duplex>, unixPaths: string[]): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  for (const socketPath of unixPaths) await unlink(socketPath).catch(() => undefined);
}
