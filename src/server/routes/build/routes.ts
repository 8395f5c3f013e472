// POST /build (the classic builder protocol) and /build/prune over the build service.
import type { Readable } from 'node:stream';
import type { Route } from '../../router.js';

export interface BuildRoutesBackend {
  /** run a build from the context body; messages are docker's JSON lines */
  build(query: URLSearchParams, context: Readable, onMessage: (message: unknown) => void): Promise<void>;
  prune(options: { all: boolean; keepStorage?: number; filters: Record<string, string[]> }): Promise<unknown>;
}

export function buildRoutes(backend: BuildRoutesBackend): Route[] {
  return [
    { method: 'POST', path: '/build', handler: async (ex) => {
      // validate the query before answering, so a bad one is a clean 400
      const out = { stream: undefined as ReturnType<typeof ex.jsonStream> | undefined };
      await backend.build(ex.query, ex.bodyStream(), (message) => {
        out.stream ??= ex.jsonStream();
        out.stream.write(message);
      });
      (out.stream ?? ex.jsonStream()).end();
    } },
    { method: 'POST', path: '/build/prune', handler: async (ex) => {
      const keep = ex.queryInt('keep-storage');
      ex.json(200, await backend.prune({ all: ex.queryBool('all'), filters: Object.fromEntries(ex.filters()), ...(keep === undefined ? {} : { keepStorage: keep }) }));
    } },
  ];
}
