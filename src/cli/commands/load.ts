import { defineCommand } from '../command.js';
import { openInput } from '../streams/output-file.js';
import { renderProgress } from '../streams/progress.js';

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Load an image from a tar archive or STDIN',
  aliases: ['berth image load', 'berth load'],
  maxArgs: 0,
  options(cmd) {
    cmd.option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output');
  },
  async run(ctx, _args, flags) {
    const input = openInput(ctx, flags.str('input'));
    const res = await ctx.client().load(input, flags.bool('quiet'));
    const out = ctx.streams.stdout;
    await renderProgress(res, { write: (t) => out.write(t), isTTY: out.isTTY === true, columns: out.columns });
  },
});
