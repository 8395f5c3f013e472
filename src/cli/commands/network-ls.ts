import { defineCommand } from '../command.js';
import { renderList, type ListSpec } from '../format/render.js';
import { formatOption, listOption } from '../options.js';
import { parseFilters } from './ps.js';

const NETWORK_SPEC: ListSpec = {
  defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED' },
  typeName: '*formatter.networkContext',
};

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'List networks',
  aliases: ['berth network ls', 'berth network list'],
  maxArgs: 0,
  options(cmd) {
    listOption(cmd, '-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")');
    formatOption(cmd);
    cmd.option('--no-trunc', 'Do not truncate the output')
      .option('-q, --quiet', 'Only display network IDs');
  },
  async run(ctx, _args, flags) {
    const networks = await ctx.client().listNetworks(parseFilters(flags.list('filter')));
    const trunc = flags.bool('trunc');
    const rows = networks.map((n) => ({
      ID: trunc ? n.Id.slice(0, 12) : n.Id, Name: n.Name, Driver: n.Driver ?? '', Scope: n.Scope ?? '',
      IPv6: String(n.EnableIPv6 ?? false), Internal: String(n.Internal ?? false),
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(','), CreatedAt: n.Created ?? '',
    }));
    // docker sorts networks by name
    rows.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    ctx.out(renderList(rows, NETWORK_SPEC, flags.str('format'), flags.bool('quiet')));
  },
});
