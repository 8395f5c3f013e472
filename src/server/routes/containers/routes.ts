// /containers/... and /exec/... routes: parse, validate, call the backend, frame the answer.
import { z } from 'zod';
import { invalidArgument } from '../../../errors/berth-error.js';
import { createRequestSchema, updateRequestSchema } from '../../../daemon/containers/create-request.js';
import { execCreateSchema, execStartSchema } from '../../../daemon/containers/exec.js';
import type { Exchange } from '../../exchange.js';
import type { Route } from '../../router.js';
import { parseTimestampNanos } from '../../timestamps.js';
import { shapeContainerInspect } from '../../version-shapes.js';
import type { ContainersBackend } from './backend.js';
import { attachRoute, execStartRoute, logsRoute } from './streams.js';
import { archiveRoutes } from './archive-routes.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

function stopOptions(ex: Exchange): { signal?: string; timeoutSeconds?: number } {
  const signal = ex.queryString('signal');
  const timeoutSeconds = ex.queryInt('t');
  return { ...(signal ? { signal } : {}), ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }) };
}

function size(ex: Exchange, name: string): number {
  const value = ex.queryInt(name) ?? 0;
  if (value < 0 || value > 65535) throw invalidArgument('BAD_SIZE', `invalid ${name}: ${value}`);
  return value;
}

export function containerRoutes(backend: ContainersBackend): Route[] {
  return [
    { method: 'GET', path: '/containers/json', handler: async (ex) => {
      const limit = ex.queryInt('limit');
      const list = await backend.list({ all: ex.queryBool('all'), size: ex.queryBool('size'), filters: ex.filters(),
        ...(limit === undefined ? {} : { limit }) });
      // the summary's Health is new in API 1.52
      ex.json(200, ex.versionAtLeast('1.52') ? list : list.map(({ Health: _health, ...rest }) => rest));
    } },
    { method: 'POST', path: '/containers/create', handler: async (ex) => {
      const name = ex.queryString('name');
      if (name !== undefined && name !== '' && !NAME_RE.test(name)) {
        throw invalidArgument('INVALID_CONTAINER_NAME', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      }
      const body = await ex.readJson(createRequestSchema, { required: true });
      // StartInterval came with API 1.44: older clients get the default, as from dockerd
      if (!ex.versionAtLeast('1.44') && body.Healthcheck) body.Healthcheck = { ...body.Healthcheck, StartInterval: 0 };
      ex.json(201, await backend.create(body, name || undefined));
    } },
    { method: 'GET', path: '/containers/{id}/json', handler: async (ex) => {
      ex.json(200, shapeContainerInspect(await backend.inspect(ex.param('id'), ex.queryBool('size')), ex.apiVersion));
    } },
    { method: 'GET', path: '/containers/{id}/top', handler: async (ex) => {
      ex.json(200, await backend.top(ex.param('id'), ex.queryString('ps_args') || '-ef'));
    } },
    { method: 'GET', path: '/containers/{id}/logs', handler: async (ex) => { await logsRoute(ex, backend); } },
    { method: 'GET', path: '/containers/{id}/changes', handler: async (ex) => { ex.json(200, await backend.changes(ex.param('id'))); } },
    { method: 'GET', path: '/containers/{id}/export', handler: async (ex) => {
      const tar = await backend.exportRootfs(ex.param('id'), ex.signal);
      const out = ex.download('application/x-tar');
      tar.pipe(out);
      await new Promise<void>((resolve) => { out.on('finish', resolve); out.on('close', resolve); });
      // a client that hung up: the tar stops reading the root (and releases its mount)
      if (!tar.readableEnded) tar.destroy();
    } },
    { method: 'GET', path: '/containers/{id}/stats', handler: async (ex) => {
      const stream = ex.queryBool('stream', true);
      const stats = await backend.stats(ex.param('id'), { stream, oneShot: ex.queryBool('one-shot') }, ex.signal);
      const out = ex.jsonStream();
      for await (const sample of stats) {
        if (!out.open) break;
        out.write(sample);
      }
      out.end();
    } },
    { method: 'POST', path: '/containers/{id}/resize', handler: async (ex) => {
      await backend.resize(ex.param('id'), size(ex, 'h'), size(ex, 'w'));
      ex.noContent(200);
    } },
    { method: 'POST', path: '/containers/{id}/start', handler: async (ex) => {
      await backend.start(ex.param('id'));
      ex.noContent();
    } },
    { method: 'POST', path: '/containers/{id}/stop', handler: async (ex) => {
      await backend.stop(ex.param('id'), stopOptions(ex));
      ex.noContent();
    } },
    { method: 'POST', path: '/containers/{id}/restart', handler: async (ex) => {
      await backend.restart(ex.param('id'), stopOptions(ex));
      ex.noContent();
    } },
    { method: 'POST', path: '/containers/{id}/kill', handler: async (ex) => {
      await backend.kill(ex.param('id'), ex.queryString('signal'));
      ex.noContent();
    } },
    { method: 'POST', path: '/containers/{id}/update', handler: async (ex) => {
      ex.json(200, await backend.update(ex.param('id'), await ex.readJson(updateRequestSchema, { required: true })));
    } },
    { method: 'POST', path: '/containers/{id}/rename', handler: async (ex) => {
      const name = ex.queryString('name') ?? '';
      if (!NAME_RE.test(name)) throw invalidArgument('INVALID_CONTAINER_NAME', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      await backend.rename(ex.param('id'), name);
      ex.noContent();
    } },
    { method: 'POST', path: '/containers/{id}/pause', handler: async (ex) => { await backend.pause(ex.param('id')); ex.noContent(); } },
    { method: 'POST', path: '/containers/{id}/unpause', handler: async (ex) => { await backend.unpause(ex.param('id')); ex.noContent(); } },
    { method: 'POST', path: '/containers/{id}/attach', handler: async (ex) => { await attachRoute(ex, backend); } },
    { method: 'POST', path: '/containers/{id}/wait', handler: async (ex) => { await waitRoute(ex, backend); } },
    { method: 'DELETE', path: '/containers/{id}', handler: async (ex) => {
      await backend.remove(ex.param('id'), { force: ex.queryBool('force'), volumes: ex.queryBool('v'), link: ex.queryBool('link') });
      ex.noContent();
    } },
    ...archiveRoutes(backend),
    { method: 'POST', path: '/containers/prune', handler: async (ex) => { ex.json(200, await backend.prune(ex.filters())); } },
    { method: 'POST', path: '/commit', handler: async (ex) => {
      const config = await ex.readJson(z.record(z.string(), z.unknown()).nullable().optional());
      const container = ex.queryString('container');
      if (!container) throw invalidArgument('NO_CONTAINER', 'no container given to commit');
      const optional = (name: string): Record<string, string> => { const v = ex.queryString(name); return v ? { [name]: v } : {}; };
      ex.json(201, await backend.commit({ container, ...optional('repo'), ...optional('tag'), ...optional('comment'), ...optional('author'),
        pause: ex.queryBool('pause', true), changes: ex.query.getAll('changes').flatMap((c) => c.split('\n')).filter(Boolean) }, config ?? undefined));
    } },
    { method: 'POST', path: '/containers/{id}/exec', handler: async (ex) => {
      ex.json(201, await backend.execCreate(ex.param('id'), await ex.readJson(execCreateSchema, { required: true })));
    } },
    { method: 'POST', path: '/exec/{id}/start', handler: async (ex) => { await execStartRoute(ex, backend, execStartSchema); } },
    { method: 'POST', path: '/exec/{id}/resize', handler: async (ex) => {
      await backend.execResize(ex.param('id'), size(ex, 'h'), size(ex, 'w'));
      ex.noContent(200);
    } },
    { method: 'GET', path: '/exec/{id}/json', handler: async (ex) => { ex.json(200, await backend.execInspect(ex.param('id'))); } },
  ];
}

async function waitRoute(ex: Exchange, backend: ContainersBackend): Promise<void> {
  const condition = ex.queryString('condition') || 'not-running';
  if (condition !== 'not-running' && condition !== 'next-exit' && condition !== 'removed') {
    throw invalidArgument('BAD_WAIT_CONDITION', `invalid condition: "${condition}"`);
  }
  // resolve the container first so a bad id is a 404, then send headers at once as dockerd does
  await backend.inspect(ex.param('id'), false);
  const out = ex.download('application/json');
  try {
    const result = await backend.wait(ex.param('id'), condition, ex.signal);
    out.end(JSON.stringify(result) + '\n');
  } catch (err) {
    out.end(JSON.stringify({ StatusCode: -1, Error: { Message: err instanceof Error ? err.message : String(err) } }) + '\n');
  }
}

export { parseTimestampNanos };
