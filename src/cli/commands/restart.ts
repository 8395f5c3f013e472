import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';
import { intOption } from '../options.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Restart one or more containers',
  minArgs: 1,
  options(cmd) {
    cmd.option('-s, --signal <string>', 'Signal to send to the container');
    intOption(cmd, '-t, --time <int>', 'Seconds to wait before killing the container');
  },
  async run(ctx, args, flags) {
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => {
      await client.restartContainer(target, flags.num('time'), flags.str('signal'));
    });
  },
});
