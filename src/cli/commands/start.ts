import { eachTarget } from '../batch.js';
import { defineCommand } from '../command.js';
import { attachAndWait } from '../streams/attach-session.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Start one or more stopped containers',
  minArgs: 1,
  options(cmd) {
    cmd.option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
      .option('-i, --interactive', "Attach container's STDIN")
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container');
  },
  async run(ctx, args, flags) {
    const client = ctx.client();
    if (flags.bool('attach') || flags.bool('interactive')) {
      const [target] = args;
      if (args.length > 1 || target === undefined) throw new Error('you cannot start and attach multiple containers at once');
      const info = await client.inspectContainer(target);
      return await attachAndWait(ctx, info.Id, {
        stdin: flags.bool('interactive'), tty: info.Config.Tty === true, detachKeys: flags.str('detach-keys'),
        sigProxy: true, start: true, autoRemove: false,
      });
    }
    return await eachTarget(ctx, args, async (target) => { await client.startContainer(target); });
  },
});
