import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { humanSize } from '../format/units.js';
import { listOption } from '../options.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Remove unused data',
  maxArgs: 0,
  options(cmd) {
    cmd.option('-a, --all', 'Remove all unused images not just dangling ones');
    listOption(cmd, '--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")');
    cmd.option('-f, --force', 'Do not prompt for confirmation')
      .option('--volumes', 'Prune anonymous volumes');
  },
  async run(ctx, _args, flags) {
    const all = flags.bool('all');
    const warning = `WARNING! This will remove:\n  - all stopped containers\n  - ${all ? 'all images without at least one container associated to them' : 'all dangling images'}\n`;
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const client = ctx.client();
    const filters = parseFilters(flags.list('filter'));
    const containers = await client.pruneContainers(filters);
    const images = await client.pruneImages({ ...filters, dangling: [all ? 'false' : 'true'] });
    const deletedContainers = containers.ContainersDeleted ?? [];
    if (deletedContainers.length > 0) ctx.out(`Deleted Containers:\n${deletedContainers.map((id) => `${id}\n`).join('')}\n`);
    const deletedImages = images.ImagesDeleted ?? [];
    if (deletedImages.length > 0) {
      ctx.out(`Deleted Images:\n${deletedImages.map((d) => (d.Untagged !== undefined ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`)).join('')}\n`);
    }
    ctx.out(`Total reclaimed space: ${humanSize((containers.SpaceReclaimed ?? 0) + (images.SpaceReclaimed ?? 0))}\n`);
    return 0;
  },
});
