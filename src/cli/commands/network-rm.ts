import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  usage: 'NETWORK [NETWORK...]',
  description: 'Remove one or more networks',
  aliases: ['berth network rm', 'berth network remove'],
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --force', 'Do not error if the network does not exist');
  },
  async run(ctx, args) {
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => { await client.removeNetwork(target); });
  },
});
