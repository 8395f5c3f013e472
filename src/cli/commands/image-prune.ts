import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { listOption } from '../options.js';
import { imagePruneLines, printPruneReport } from '../prune-report.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove unused images',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-a, --all', 'Remove all unused images, not just dangling ones');
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")');
    cmd.option('-f, --force', 'Do not prompt for confirmation');
  },
  async run(ctx, _args, flags) {
    const all = flags.bool('all');
    const warning = all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const filters = parseFilters(flags.list('filter'));
    filters.dangling = [all ? 'false' : 'true'];
    const result = await ctx.client().pruneImages(filters);
    printPruneReport(ctx, 'Deleted Images', imagePruneLines(result.ImagesDeleted ?? []), result.SpaceReclaimed ?? 0);
    return 0;
  },
});
