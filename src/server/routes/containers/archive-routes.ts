// GET/HEAD/PUT /containers/{id}/archive: what `docker cp` uses. The path stat travels
// base64-encoded in the X-Docker-Container-Path-Stat header.
import { invalidArgument } from '../../../errors/berth-error.js';
import type { Exchange } from '../../exchange.js';
import type { Route } from '../../router.js';
import type { ContainersBackend, PathStat } from './backend.js';

function statHeader(stat: PathStat): Record<string, string> {
  return { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(stat)).toString('base64') };
}

function archivePath(ex: Exchange): string {
  const value = ex.queryString('path');
  if (!value) throw invalidArgument('NO_PATH', 'path is required');
  return value;
}

export function archiveRoutes(backend: ContainersBackend): Route[] {
  return [
    { method: 'HEAD', path: '/containers/{id}/archive', handler: async (ex) => {
      const stat = await backend.archiveStat(ex.param('id'), archivePath(ex));
      ex.head(200, { ...statHeader(stat), 'Content-Type': 'application/json' });
    } },
    { method: 'GET', path: '/containers/{id}/archive', handler: async (ex) => {
      if (ex.req.method === 'HEAD') {
        const stat = await backend.archiveStat(ex.param('id'), archivePath(ex));
        ex.head(200, { ...statHeader(stat), 'Content-Type': 'application/json' });
        return;
      }
      const { stat, tar } = await backend.archiveGet(ex.param('id'), archivePath(ex), ex.signal);
      const out = ex.download('application/x-tar', statHeader(stat));
      tar.pipe(out);
      await new Promise<void>((resolve) => {
        out.on('finish', resolve);
        out.on('close', resolve);
        tar.on('error', () => { out.destroy(); resolve(); });
      });
      if (!tar.readableEnded) tar.destroy();
    } },
    { method: 'PUT', path: '/containers/{id}/archive', handler: async (ex) => {
      await backend.archivePut(ex.param('id'), archivePath(ex), ex.bodyStream(), {
        noOverwriteDirNonDir: ex.queryBool('noOverwriteDirNonDir'), copyUIDGID: ex.queryBool('copyUIDGID'),
      });
      ex.noContent(200);
    } },
  ];
}
