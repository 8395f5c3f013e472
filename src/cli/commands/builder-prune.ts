import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { listOption, sizeOption } from '../options.js';
import { printPruneReport } from '../prune-report.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove build cache',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-a, --all', 'Remove all unused build cache, not just dangling ones');
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "until=24h")');
    cmd.option('-f, --force', 'Do not prompt for confirmation');
    sizeOption(cmd, '--keep-storage <bytes>', 'Amount of disk space to keep for cache');
  },
  async run(ctx, _args, flags) {
    const warning = flags.bool('all') ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const result = await ctx.client().pruneBuildCache({
      all: flags.bool('all'), filters: parseFilters(flags.list('filter')), keepStorage: flags.num('keep-storage'),
    });
    printPruneReport(ctx, 'Deleted build cache objects', result.CachesDeleted ?? [], result.SpaceReclaimed ?? 0);
    return 0;
  },
});
