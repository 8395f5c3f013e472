// Where the daemon listens: -H/--host, then BERTH_HOST, then DOCKER_HOST, then berth's own
// socket. Parsed once here so every caller gets a checked endpoint, never a raw string.
import { invalidArgument } from '../errors/berth-error.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type Endpoint =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; hostname: string; port: number; url: string };

export function chooseHost(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return nonEmpty(flag) ?? nonEmpty(env.BERTH_HOST) ?? nonEmpty(env.DOCKER_HOST) ?? DEFAULT_HOST;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Parse `unix:///path`, `/path`, `tcp://host:port` or `host:port` into an endpoint. */
export function parseHost(host: string): Endpoint {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw invalidArgument('INVALID_HOST', `invalid host "${host}": the socket path must be absolute`);
    return { kind: 'unix', socketPath, url: host };
  }
  if (host.startsWith('/')) return { kind: 'unix', socketPath: host, url: `unix://${host}` };
  const rest = host.startsWith('tcp://') ? host.slice('tcp://'.length) : host.startsWith('http://') ? host.slice('http://'.length) : host;
  if (rest.includes('://')) throw invalidArgument('INVALID_HOST', `invalid host "${host}": only unix:// and tcp:// are supported`);
  const match = /^(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(rest);
  if (match === null) throw invalidArgument('INVALID_HOST', `invalid host "${host}"`);
  const hostname = (match[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = match[2] === undefined ? 2375 : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument('INVALID_HOST', `invalid host "${host}": bad port`);
  return { kind: 'tcp', hostname, port, url: `tcp://${match[1] ?? hostname}:${port}` };
}
