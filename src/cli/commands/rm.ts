import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Remove one or more containers',
  aliases: ['berth container rm', 'berth container remove', 'berth rm'],
  minArgs: 1,
  options(cmd) {
    cmd.option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
      .option('-l, --link', 'Remove the specified link')
      .option('-v, --volumes', 'Remove anonymous volumes associated with the container');
  },
  async run(ctx, args, flags) {
    const client = ctx.client();
    return await eachTarget(ctx, args, async (target) => {
      await client.removeContainer(target, { force: flags.bool('force') || undefined, v: flags.bool('volumes') || undefined, link: flags.bool('link') || undefined });
    });
  },
});
