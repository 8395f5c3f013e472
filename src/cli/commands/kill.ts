import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Kill one or more running containers',
  minArgs: 1,
  options(cmd) {
    cmd.option('-s, --signal <string>', 'Signal to send to the container');
  },
  async run(ctx, args, flags) {
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => { await client.killContainer(target, flags.str('signal')); });
  },
});
