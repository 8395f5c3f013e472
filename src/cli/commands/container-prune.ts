import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../format/units.js';
import { listOption } from '../options.js';
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
    const deleted = result.ContainersDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
    ctx.out(`Total reclaimed space: ${humanSize(result.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
});
