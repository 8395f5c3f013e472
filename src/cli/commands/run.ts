import { defineCommand } from '../command.js';
import { addContainerOptions } from '../container-config.js';
import { attachAndWait } from '../streams/attach-session.js';
import { createFromFlags } from './create.js';

export default defineCommand({
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  aliases: ['berth container run', 'berth run'],
  minArgs: 1,
  maxArgs: Infinity,
  passThrough: true,
  runStyleErrors: true,
  options(cmd) {
    addContainerOptions(cmd);
    cmd.option('-d, --detach', 'Run container in background and print container ID')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('--sig-proxy [bool]', 'Proxy received signals to the process (default true)');
  },
  async run(ctx, args, flags) {
    const detach = flags.bool('detach');
    const id = await createFromFlags(ctx, args, flags, detach);
    const client = ctx.client();
    if (detach) {
      await client.startContainer(id);
      ctx.out(`${id}\n`);
      return 0;
    }
    const attach = flags.list('attach').map((s) => s.toLowerCase());
    return await attachAndWait(ctx, id, {
      stdin: attach.length === 0 ? flags.bool('interactive') : attach.includes('stdin'),
      stdout: attach.length === 0 || attach.includes('stdout'),
      stderr: attach.length === 0 || attach.includes('stderr'),
      tty: flags.bool('tty'),
      detachKeys: flags.str('detach-keys'),
      sigProxy: flags.str('sig-proxy') !== 'false',
      start: true,
      autoRemove: flags.bool('rm'),
    });
  },
});
