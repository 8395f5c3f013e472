import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  usage: 'CONTAINER [CONTAINER...]',
  description: 'Pause all processes within one or more containers',
  minArgs: 1,
  async run(ctx, args) {
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => { await client.pauseContainer(target); });
  },
});
