import { defineCommand } from '../command.js';
import { describeError } from '../errors.js';

export default defineCommand({
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Remove one or more images',
  aliases: ['berth image rm', 'berth image remove', 'berth rmi'],
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --force', 'Force removal of the image')
      .option('--no-prune', 'Do not delete untagged parents');
  },
  async run(ctx, args, flags) {
    let failed = false;
    for (const image of args) {
      try {
        const items = await ctx.client().removeImage(image, { force: flags.bool('force') || undefined, noprune: !flags.bool('prune') || undefined });
        for (const item of items) ctx.out(item.Deleted !== undefined ? `Deleted: ${item.Deleted}\n` : `Untagged: ${item.Untagged ?? ''}\n`);
      } catch (err) {
        failed = true;
        ctx.err(`${describeError(err)}\n`);
      }
    }
    return failed ? 1 : 0;
  },
});
