import { pruneVolumes } from '../../client/volumes.js';
import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { listOption } from '../options.js';
import { printPruneReport } from '../prune-report.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove unused local volumes',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-a, --all', 'Remove all unused volumes, not just anonymous ones');
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "label=<label>")');
    cmd.option('-f, --force', 'Do not prompt for confirmation');
  },
  async run(ctx, _args, flags) {
    const warning = flags.bool('all') ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const filters = parseFilters(flags.list('filter'));
    if (flags.bool('all')) filters['all'] = ['true'];
    const result = await pruneVolumes(ctx.client().transport, filters);
    printPruneReport(ctx, 'Deleted Volumes', result.VolumesDeleted, result.SpaceReclaimed);
    return 0;
  },
});
