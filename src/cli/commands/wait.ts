import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  usage: 'CONTAINER [CONTAINER...]',
  description: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  async run(ctx, args) {
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => String((await client.waitContainer(target)).StatusCode));
  },
});
