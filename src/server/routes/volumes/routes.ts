// /volumes/... routes over the volumes service (daemon/volumes).
import { z } from 'zod';
import { parseBool, type Filters } from '../../query.js';
import type { Route } from '../../router.js';

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
    { method: 'POST', path: '/volumes/prune', handler: async (ex) => { ex.json(200, await backend.prune(ex.filters())); } },
    { method: 'GET', path: '/volumes/{name}', handler: async (ex) => { ex.json(200, await backend.inspect(ex.param('name'))); } },
    { method: 'DELETE', path: '/volumes/{name}', handler: async (ex) => {
      await backend.remove(ex.param('name'), parseBool(ex.query.get('force'), 'force'));
      ex.noContent();
    } },
  ];
}
