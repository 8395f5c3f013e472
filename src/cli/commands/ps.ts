import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { CONTAINER_SPEC, containerRow } from '../format/containers.js';
import { renderList } from '../format/render.js';
import { formatOption, intOption, listOption } from '../options.js';

export function parseFilters(list: string[]): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)`, 125, false);
    (filters[item.slice(0, eq).trim().toLowerCase()] ??= []).push(item.slice(eq + 1));
  }
  return filters;
}

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'List containers',
  aliases: ['berth container ls', 'berth container list', 'berth container ps', 'berth ps'],
  maxArgs: 0,
  options(cmd) {
    cmd.option('-a, --all', 'Show all containers (default shows just running)');
    listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided');
    formatOption(cmd);
    intOption(cmd, '-n, --last <int>', 'Show n last created containers (includes all states)', -1);
    cmd.option('-l, --latest', 'Show the latest created container (includes all states)')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only display container IDs')
      .option('-s, --size', 'Display total file sizes');
  },
  async run(ctx, _args, flags) {
    const format = flags.str('format');
    const last = flags.bool('latest') ? 1 : flags.num('last') ?? -1;
    // docker asks for sizes when the output shows them, {{json .}} included
    const wantsSize = flags.bool('size') || (format !== undefined && (/\.Size\b/.test(format) || /json\s+\./.test(format) || format === 'json'));
    const containers = await ctx.client().listContainers({
      all: flags.bool('all') || last > 0 || undefined, limit: last > 0 ? last : undefined, size: wantsSize || undefined,
      filters: parseFilters(flags.list('filter')),
    });
    const trunc = flags.has('trunc') ? flags.bool('trunc') : true;
    const rows = containers.map((c) => containerRow(c, trunc));
    const spec = wantsSize && (format === undefined || format === 'table')
      ? { ...CONTAINER_SPEC, defaultFormat: `${CONTAINER_SPEC.defaultFormat}\t{{.Size}}` } : CONTAINER_SPEC;
    ctx.out(renderList(rows, spec, format, flags.bool('quiet')));
  },
});
