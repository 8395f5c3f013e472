import { jsonValues } from '../../client/json-stream.js';
import { decodeStats } from '../../client/types.js';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { renderList } from '../format/render.js';
import { STATS_SPEC, statsRow } from '../format/stats.js';
import { formatOption } from '../options.js';

async function oneSample(ctx: CliContext, id: string, trunc: boolean): Promise<Record<string, string>> {
  const res = await ctx.client().stats(id, false);
  for await (const value of jsonValues(res)) {
    const sample = decodeStats(value, 'stats');
    return statsRow(sample, sample.id ?? id, sample.name ?? id, trunc);
  }
  return statsRow(decodeStats({}, 'stats'), id, id, trunc);
}

export default defineCommand({
  usage: '[OPTIONS] [CONTAINER...]',
  description: 'Display a live stream of container(s) resource usage statistics',
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-a, --all', 'Show all containers (default shows just running)');
    formatOption(cmd);
    cmd.option('--no-stream', 'Disable streaming stats and only pull the first result')
      .option('--no-trunc', "Don't truncate output");
  },
  async run(ctx, args, flags) {
    const client = ctx.client();
    const trunc = flags.bool('trunc');
    const ids = args.length > 0 ? args
      : (await client.listContainers({ all: flags.bool('all') || undefined })).map((c) => c.Id);
    const format = flags.str('format');
    if (!flags.bool('stream')) {
      const rows = await Promise.all(ids.map((id) => oneSample(ctx, id, trunc)));
      ctx.out(renderList(rows, STATS_SPEC, format));
      return 0;
    }
    // streaming: one request per container, the table redrawn in place every second
    const latest = new Map<string, Record<string, string>>(ids.map((id) => [id, statsRow(decodeStats({}, 'stats'), id, id, trunc)]));
    const readers = ids.map(async (id) => {
      for await (const value of jsonValues(await client.stats(id, true))) {
        const sample = decodeStats(value, 'stats');
        latest.set(id, statsRow(sample, sample.id ?? id, sample.name ?? id, trunc));
      }
    });
    const draw = (): void => {
      const clear = ctx.streams.stdout.isTTY ? '\x1b[2J\x1b[H' : '';
      ctx.out(clear + renderList([...latest.values()], STATS_SPEC, format));
    };
    const timer = setInterval(draw, 1000);
    try {
      await Promise.all(readers);
    } finally {
      clearInterval(timer);
      draw();
    }
    return 0;
  },
});
