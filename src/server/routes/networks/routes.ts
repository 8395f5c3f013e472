// /networks/... routes over the networks service (daemon/networks).
import { z } from 'zod';
import type { Route } from '../../router.js';
import type { Filters } from '../../query.js';

export interface NetworksRoutesBackend {
  create(request: unknown): Promise<{ Id: string; Warning: string }>;
  list(filters?: Record<string, string[]>): Promise<unknown[]>;
  inspect(idOrName: string): Promise<unknown>;
  remove(idOrName: string): Promise<void>;
  prune(filters?: Record<string, string[]>): Promise<{ NetworksDeleted: string[] }>;
  /** connect/disconnect by container name or id (the daemon resolves the container) */
  connectContainer(network: string, container: string, config: Record<string, unknown> | undefined): Promise<void>;
  disconnectContainer(network: string, container: string, force: boolean): Promise<void>;
}

const connectSchema = z.object({ Container: z.string().min(1), EndpointConfig: z.record(z.string(), z.unknown()).nullable().optional() }).passthrough();
const disconnectSchema = z.object({ Container: z.string().min(1), Force: z.boolean().optional() }).passthrough();

function plain(filters: Filters): Record<string, string[]> {
  return Object.fromEntries(filters);
}

export function networkRoutes(backend: NetworksRoutesBackend): Route[] {
  return [
    { method: 'GET', path: '/networks', handler: async (ex) => { ex.json(200, await backend.list(plain(ex.filters()))); } },
    { method: 'POST', path: '/networks/create', handler: async (ex) => {
      ex.json(201, await backend.create(await ex.readJson(z.unknown(), { required: true })));
    } },
    { method: 'POST', path: '/networks/prune', handler: async (ex) => { ex.json(200, await backend.prune(plain(ex.filters()))); } },
    { method: 'GET', path: '/networks/{id}', handler: async (ex) => { ex.json(200, await backend.inspect(ex.param('id'))); } },
    { method: 'DELETE', path: '/networks/{id}', handler: async (ex) => { await backend.remove(ex.param('id')); ex.noContent(); } },
    { method: 'POST', path: '/networks/{id}/connect', handler: async (ex) => {
      const body = await ex.readJson(connectSchema, { required: true });
      await backend.connectContainer(ex.param('id'), body.Container, body.EndpointConfig ?? undefined);
      ex.noContent(200);
    } },
    { method: 'POST', path: '/networks/{id}/disconnect', handler: async (ex) => {
      const body = await ex.readJson(disconnectSchema, { required: true });
      await backend.disconnectContainer(ex.param('id'), body.Container, body.Force ?? false);
      ex.noContent(200);
    } },
  ];
}
