import { defineCommand } from '../command.js';
import { refuseTerminal, writeArchive } from '../streams/output-file.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER',
  description: "Export a container's filesystem as a tar archive",
  aliases: ['berth container export', 'berth export'],
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    cmd.option('-o, --output <string>', 'Write to a file, instead of STDOUT');
  },
  async run(ctx, [container = ''], flags) {
    const output = flags.str('output');
    refuseTerminal(ctx, output, 'export');
    await writeArchive(ctx, await ctx.client().exportContainer(container), output, 'export');
  },
});
