// Matches a request to a route of the tables in routes/<resource>/, strips the version
// prefix, and turns what a handler throws into Docker's error answer (http-errors.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { notFound, BerthError } from '../errors/berth-error.js';
import { API_VERSION_NEWEST, checkRequestedVersion, splitVersionPrefix } from './api-version.js';
import { Exchange, type UpgradeTarget } from './exchange.js';
import { toHttpError } from './http-errors.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  method: Method;
  /** `/containers/{id}/json`; `{name*}` matches across slashes (image names) */
  path: string;
  handler: (ex: Exchange) => Promise<void>;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  constructor(private readonly log: Logger) {}

  add(routes: readonly Route[]): this {
    for (const route of routes) this.routes.push(compile(route));
    return this;
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.dispatch(req, res, undefined);
  }

  async handleUpgrade(req: IncomingMessage, target: UpgradeTarget): Promise<void> {
    target.socket.on('error', (err) => this.log.debug(`upgraded connection error: ${err.message}`));
    await this.dispatch(req, undefined, target);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse | undefined, upgrade: UpgradeTarget | undefined): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    const method = (req.method ?? 'GET').toUpperCase();
    let exchange: Exchange | undefined;
    try {
      const { version, path } = splitVersionPrefix(url.pathname);
      const apiVersion = version === undefined ? API_VERSION_NEWEST : checkRequestedVersion(version);
      const { route, params } = this.match(method, path);
      exchange = new Exchange(req, res, upgrade, path, params, url.searchParams, apiVersion);
      this.log.debug(`${method} ${url.pathname}${url.search}`);
      await route.handler(exchange);
      if (!exchange.hasAnswered) exchange.noContent();
    } catch (err) {
      this.answerError(err, method, url.pathname, res, upgrade, exchange);
    }
  }

  private match(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      pathMatched = true;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => { params[name] = decodeURIComponent(found[i + 1] ?? ''); });
      return { route, params };
    }
    if (pathMatched) throw new BerthError('not_found', 'METHOD_NOT_ALLOWED', `method ${method} not allowed on ${path}`);
    throw notFound('PAGE_NOT_FOUND', 'page not found');
  }

  private answerError(err: unknown, method: string, path: string,
    res: ServerResponse | undefined, upgrade: UpgradeTarget | undefined, exchange: Exchange | undefined): void {
    const { status, body } = toHttpError(err);
    if (status >= 500) this.log.error(`${method} ${path}: ${describe(err)}`);
    else this.log.debug(`${method} ${path}: ${status} ${body.message}`);
    if (exchange) {
      if (exchange.hasAnswered) {
        // a stream already started: all we can do is end it
        if (res && !res.writableEnded) res.end();
        if (upgrade) upgrade.socket.end();
        return;
      }
      exchange.json(status, body);
      return;
    }
    if (res) {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
      return;
    }
    if (upgrade) {
      const payload = JSON.stringify(body) + '\n';
      upgrade.socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`);
    }
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : '';
  return `${err.message}${cause}${err.stack ? `\n${err.stack}` : ''}`;
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.split('/').map((segment) => {
    const param = /^\{(\w+)(\*?)\}$/.exec(segment);
    if (!param?.[1]) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    names.push(param[1]);
    return param[2] === '*' ? '(.+)' : '([^/]+)';
  }).join('/');
  return { ...route, names, pattern: new RegExp(`^${source}/?$`) };
}
