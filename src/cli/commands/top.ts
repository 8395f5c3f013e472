import { defineCommand } from '../command.js';
import { tabwrite } from '../format/table.js';

export default defineCommand({
  usage: 'CONTAINER [ps OPTIONS]',
  description: 'Display the running processes of a container',
  minArgs: 1,
  passThrough: true,
  async run(ctx, [container = '', ...psArgs]) {
    const result = await ctx.client().top(container, psArgs.length > 0 ? psArgs.join(' ') : undefined);
    const lines = [result.Titles, ...(result.Processes ?? [])].map((row) => `${row.join('\t')}\n`);
    ctx.out(tabwrite(lines.join(''), 20, 3));
  },
});
