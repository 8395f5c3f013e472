// berth's own /berth/system/check: GET lists what the metadata no longer references,
// POST ?repair=1 also removes it. Not part of the Docker API (hence the /berth prefix).
import type { CheckReportItem } from '../../../daemon/system/check.js';
import type { Route } from '../../router.js';

export interface SystemCheckBackend {
  check(repair: boolean): Promise<CheckReportItem[]>;
}

export function systemCheckRoutes(backend: SystemCheckBackend): Route[] {
  return [
    { method: 'GET', path: '/berth/system/check', handler: async (ex) => { ex.json(200, { Findings: await backend.check(false) }); } },
    { method: 'POST', path: '/berth/system/check', handler: async (ex) => {
      ex.json(200, { Findings: await backend.check(ex.queryBool('repair')) });
    } },
  ];
}
