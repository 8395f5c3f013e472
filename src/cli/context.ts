// What a command gets to work with: the daemon client (connected on first use), the
// standard streams and the name it was called by (for docker-style messages).
import { DockerClient } from '../client/api.js';
import { parseHost } from '../client/host.js';
import { resolveTls, TLS_PORT, type TlsFlags } from '../client/tls-config.js';
import { ApiTransport } from '../client/transport.js';

export interface Streams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

export class CliContext {
  private cached: DockerClient | undefined;

  constructor(
    readonly host: string,
    readonly env: NodeJS.ProcessEnv,
    readonly streams: Streams,
    /** "berth run", "berth container ls" */
    readonly commandPath: string,
    readonly apiVersion?: string,
    readonly tlsFlags: TlsFlags = {},
  ) {}

  client(): DockerClient {
    this.cached ??= this.connect();
    return this.cached;
  }

  private connect(): DockerClient {
    let endpoint = parseHost(this.host);
    if (endpoint.kind === 'unix') return new DockerClient(new ApiTransport(endpoint, this.apiVersion));
    const tls = resolveTls(this.tlsFlags, this.env);
    // tcp://host without a port means 2376 with TLS, as docker
    if (tls !== undefined && !/:\d+\/?$/.test(this.host)) endpoint = { ...endpoint, port: TLS_PORT, url: endpoint.url.replace(/:\d+$/, `:${TLS_PORT}`) };
    return new DockerClient(new ApiTransport(endpoint, this.apiVersion, tls));
  }

  out(text: string): void {
    if (text !== '') this.streams.stdout.write(text);
  }

  err(text: string): void {
    if (text !== '') this.streams.stderr.write(text);
  }

  close(): void {
    this.cached?.transport.close();
  }
}

/** Checked access to parsed flags (commander hands back an untyped record). */
export class Flags {
  constructor(private readonly raw: Record<string, unknown>) {}

  /** commander keys options by camelCase ("--env-file" -> envFile); callers use the flag's name */
  private value(name: string): unknown {
    return this.raw[name.replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase())];
  }

  bool(name: string): boolean {
    return this.value(name) === true;
  }

  str(name: string): string | undefined {
    const value = this.value(name);
    return typeof value === 'string' ? value : undefined;
  }

  num(name: string): number | undefined {
    const value = this.value(name);
    return typeof value === 'number' ? value : undefined;
  }

  list(name: string): string[] {
    const value = this.value(name);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  }

  has(name: string): boolean {
    return this.value(name) !== undefined;
  }
}
