import { defineCommand } from '../command.js';
import { IMAGE_SPEC, imageRows } from '../format/images.js';
import { renderList } from '../format/render.js';
import { formatOption, listOption } from '../options.js';
import { parseFilters } from './ps.js';

export default defineCommand({
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  description: 'List images',
  aliases: ['berth image ls', 'berth image list', 'berth images'],
  maxArgs: 1,
  options(cmd) {
    cmd.option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests');
    listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided');
    formatOption(cmd);
    cmd.option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs');
  },
  async run(ctx, args, flags) {
    const filters = parseFilters(flags.list('filter'));
    if (args[0] !== undefined) (filters.reference ??= []).push(args[0]);
    const images = await ctx.client().listImages({ all: flags.bool('all') || undefined, filters, digests: flags.bool('digests') || undefined });
    const rows = images.flatMap((image) => imageRows(image, flags.bool('trunc')));
    const spec = flags.bool('digests') ? { ...IMAGE_SPEC, defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' } : IMAGE_SPEC;
    ctx.out(renderList(rows, spec, flags.str('format'), flags.bool('quiet')));
  },
});
