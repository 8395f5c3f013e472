import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { listOption } from '../options.js';
import { printPruneReport } from '../prune-report.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove all unused networks',
  maxArgs: 0,
  options(cmd) {
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")');
    cmd.option('-f, --force', 'Do not prompt for confirmation');
  },
  async run(ctx, _args, flags) {
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
    const result = await ctx.client().pruneNetworks(parseFilters(flags.list('filter')));
    printPruneReport(ctx, 'Deleted Networks', result.NetworksDeleted ?? []);
    return 0;
  },
});
