// /_ping, /version, /info, /events, /system/df, /auth.
import { z } from 'zod';
import { API_VERSION_NEWEST, versionLessThan } from '../../api-version.js';
import { shapeDiskUsage, shapeInfo } from '../../version-shapes.js';
import type { Exchange } from '../../exchange.js';
import { checkFilterNames } from '../../query.js';
import type { Route } from '../../router.js';
import { parseTimestampNanos } from '../../timestamps.js';
import type { DockerEvent } from '../../../daemon/events/event-bus.js';
import type { SystemBackend } from './backend.js';

const PING_HEADERS = {
  'API-Version': API_VERSION_NEWEST,
  'Docker-Experimental': 'false',
  'OSType': 'linux',
  'Builder-Version': '1',
  'Swarm': 'inactive',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  'Pragma': 'no-cache',
};

const EVENT_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'];

const authSchema = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
  serveraddress: z.string().optional(),
  identitytoken: z.string().optional(),
  email: z.string().optional(),
}).passthrough();

export function systemRoutes(backend: SystemBackend): Route[] {
  return [
    { method: 'GET', path: '/_ping', handler: async (ex) => { ping(ex); } },
    { method: 'HEAD', path: '/_ping', handler: async (ex) => { ping(ex); } },
    { method: 'GET', path: '/version', handler: async (ex) => { ex.json(200, backend.version()); } },
    { method: 'GET', path: '/info', handler: async (ex) => { ex.json(200, shapeInfo(await backend.info(), ex.apiVersion)); } },
    { method: 'GET', path: '/system/df', handler: async (ex) => {
      const types = ex.query.getAll('type');
      const usage = await backend.diskUsage(types.length > 0 ? types : ['container', 'image', 'volume', 'build-cache']);
      // a request without a version prefix gets 1.52's answer, the legacy lists beside the summaries:
      // those clients (dockerode's default) read the lists, which 1.53 dropped
      const explicit = /^\/v\d/.test(ex.req.url ?? '');
      ex.json(200, shapeDiskUsage(usage, explicit ? ex.apiVersion : '1.52', ex.queryBool('verbose')));
    } },
    { method: 'POST', path: '/auth', handler: async (ex) => {
      const body = await ex.readJson(authSchema, { required: true });
      ex.json(200, await backend.auth(body));
    } },
    { method: 'GET', path: '/events', handler: async (ex) => { await streamEvents(ex, backend); } },
  ];
}

function ping(ex: Exchange): void {
  if (ex.req.method === 'HEAD') ex.head(200, { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
  else ex.text(200, 'OK', PING_HEADERS);
}

async function streamEvents(ex: Exchange, backend: SystemBackend): Promise<void> {
  const filters = ex.filters();
  checkFilterNames(filters, EVENT_FILTERS);
  const since = parseTimestampNanos(ex.queryString('since'), 'since');
  const until = parseTimestampNanos(ex.queryString('until'), 'until');
  const stream = ex.jsonStream();
  const shape = (event: DockerEvent): DockerEvent => shapeEvent(event, ex.apiVersion);
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      subscription.close();
      stream.end();
      resolve();
    };
    const subscription = backend.subscribeEvents(filters, since, (event) => {
      if (until !== undefined && event.timeNano > until) { finish(); return; }
      stream.write(shape(event));
    });
    for (const event of subscription.past) {
      if (until === undefined || event.timeNano <= until) stream.write(shape(event));
    }
    if (until !== undefined) {
      const wait = until / 1e6 - Date.now();
      if (wait <= 0) { finish(); return; }
      timer = setTimeout(finish, Math.min(wait, 2 ** 31 - 1));
    }
    ex.signal.addEventListener('abort', finish, { once: true });
  });
}

/** The legacy status/id/from fields went away in API 1.52. */
function shapeEvent(event: DockerEvent, apiVersion: string): DockerEvent {
  if (!versionLessThan(apiVersion, '1.52')) {
    const { status: _s, id: _i, from: _f, ...rest } = event;
    return rest;
  }
  return event;
}
