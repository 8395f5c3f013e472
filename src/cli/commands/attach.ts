import { defineCommand } from '../command.js';
import { StatusExit } from '../errors.js';
import { attachAndWait } from '../streams/attach-session.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER',
  description: 'Attach local standard input, output, and error streams to a running container',
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    cmd.option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('--no-stdin', 'Do not attach STDIN')
      .option('--sig-proxy [bool]', 'Proxy all received signals to the process (default true)');
  },
  async run(ctx, [container = ''], flags) {
    const info = await ctx.client().inspectContainer(container);
    if (!info.State.Running) throw new StatusExit(1, 'You cannot attach to a stopped container, start it first');
    if (info.State.Paused === true) throw new StatusExit(1, 'You cannot attach to a paused container, unpause it first');
    return await attachAndWait(ctx, info.Id, {
      stdin: flags.bool('stdin') && info.Config.OpenStdin === true, tty: info.Config.Tty === true,
      detachKeys: flags.str('detach-keys'), sigProxy: flags.str('sig-proxy') !== 'false', start: false, autoRemove: false,
    });
  },
});
