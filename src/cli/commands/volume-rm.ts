import { removeVolume } from '../../client/volumes.js';
import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  description: 'Remove one or more volumes',
  aliases: ['berth volume rm', 'berth volume remove'],
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --force', 'Force the removal of one or more volumes');
  },
  async run(ctx, args, flags) {
    const transport = ctx.client().transport;
    const force = flags.bool('force');
    return await eachTarget(ctx, args, async (target) => { await removeVolume(transport, target, force); });
  },
});
