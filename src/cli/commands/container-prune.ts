import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { listOption } from '../options.js';
import { printPruneReport } from '../prune-report.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove all stopped containers',
  maxArgs: 0,
  options(cmd) {
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")');
    cmd.option('-f, --force', 'Do not prompt for confirmation');
  },
  async run(ctx, _args, flags) {
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return 0;
    const result = await ctx.client().pruneContainers(parseFilters(flags.list('filter')));
    printPruneReport(ctx, 'Deleted Containers', result.ContainersDeleted ?? [], result.SpaceReclaimed ?? 0);
    return 0;
  },
});
