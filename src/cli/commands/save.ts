import { defineCommand } from '../command.js';
import { refuseTerminal, writeArchive } from '../streams/output-file.js';

export default defineCommand({
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  aliases: ['berth image save', 'berth save'],
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-o, --output <string>', 'Write to a file, instead of STDOUT');
  },
  async run(ctx, args, flags) {
    const output = flags.str('output');
    refuseTerminal(ctx, output, 'save');
    await writeArchive(ctx, await ctx.client().save(args), output, 'save');
  },
});
