// /volumes/... routes over the volumes service (daemon/volumes).
import { z } from 'zod';
import { parseBool, type Filters } from '../../query.js';
import type { Route } from '../../router.js';
import type { Exchange } from '../../exchange.js';

export interface VolumesRoutesBackend {
  create(request: unknown): Promise<unknown>;
  list(filters: Filters): unknown;
  inspect(name: string): unknown;
  remove(name: string, force: boolean): Promise<void>;
  prune(filters: Filters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
}

export function volumeRoutes(backend: VolumesRoutesBackend): Route[] {
  return [
    { method: 'GET', path: '/volumes', handler: async (ex) => { ex.json(200, await backend.list(ex.filters())); } },
    { method: 'POST', path: '/volumes/create', handler: async (ex) => {
      ex.json(201, await backend.create(await ex.readJson(z.unknown(), { required: false })));
    } },
    { method: 'POST', path: '/volumes/prune', handler: async (ex) => { ex.json(200, await backend.prune(pruneFilters(ex))); } },
    { method: 'GET', path: '/volumes/{name}', handler: async (ex) => { ex.json(200, await backend.inspect(ex.param('name'))); } },
    { method: 'DELETE', path: '/volumes/{name}', handler: async (ex) => {
      await backend.remove(ex.param('name'), parseBool(ex.query.get('force'), 'force'));
      ex.noContent();
    } },
  ];
}

/** Before API 1.42, prune took every unused volume; `all` came with the anonymous-only default. */
function pruneFilters(ex: Exchange): Filters {
  const filters = ex.filters();
  if (!ex.versionAtLeast('1.42') && !filters.has('all')) filters.set('all', ['true']);
  return filters;
}
