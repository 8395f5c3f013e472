import { listVolumes } from '../../client/volumes.js';
import { defineCommand } from '../command.js';
import { renderList, type ListSpec } from '../format/render.js';
import { formatOption, listOption } from '../options.js';
import { parseFilters } from './ps.js';

const VOLUME_SPEC: ListSpec = {
  defaultFormat: 'table {{.Driver}}\t{{.Name}}',
  headers: { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE' },
  typeName: '*formatter.volumeContext',
};

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'List volumes',
  aliases: ['berth volume ls', 'berth volume list'],
  maxArgs: 0,
  options(cmd) {
    listOption(cmd, '-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")');
    formatOption(cmd);
    cmd.option('-q, --quiet', 'Only display volume names');
  },
  async run(ctx, _args, flags) {
    const volumes = await listVolumes(ctx.client().transport, parseFilters(flags.list('filter')));
    const rows = volumes.map((v) => ({
      Driver: v.Driver, Name: v.Name, Mountpoint: v.Mountpoint, Scope: v.Scope ?? 'local',
      Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).sort().join(','), Links: 'N/A', Size: 'N/A',
    }));
    rows.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    ctx.out(renderList(rows, VOLUME_SPEC, flags.str('format'), flags.bool('quiet')));
  },
});
