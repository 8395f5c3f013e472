import { defineCommand } from '../command.js';
import { parseEnvFile } from '../container-config.js';
import { listOption } from '../options.js';
import { pump, trackWindowSize } from '../streams/pump.js';
import { StatusExit } from '../errors.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  description: 'Execute a command in a running container',
  minArgs: 2,
  maxArgs: Infinity,
  passThrough: true,
  options(cmd) {
    cmd.option('-d, --detach', 'Detached mode: run command in the background')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container');
    listOption(cmd, '-e, --env <list>', 'Set environment variables');
    listOption(cmd, '--env-file <list>', 'Read in a file of environment variables');
    cmd.option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('--privileged', 'Give extended privileges to the command')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
      .option('-w, --workdir <string>', 'Working directory inside the container');
  },
  async run(ctx, [container = '', ...command], flags) {
    const client = ctx.client();
    const detach = flags.bool('detach');
    const interactive = flags.bool('interactive');
    const tty = flags.bool('tty');
    const info = await client.inspectContainer(container);
    if (!info.State.Running) throw new StatusExit(1, `Error response from daemon: container ${info.Id} is not running`);
    const env = [...flags.list('env-file').flatMap((f) => parseEnvFile(f, ctx.env)), ...flags.list('env')];
    const created = await client.createExec(container, {
      AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, Tty: tty, Cmd: command,
      Env: env, User: flags.str('user'), WorkingDir: flags.str('workdir'), Privileged: flags.bool('privileged'),
      DetachKeys: flags.str('detach-keys'),
    });
    const conn = await client.startExec(created.Id, { Detach: detach, Tty: tty });
    if (conn === undefined) return 0;
    const stopResize = tty ? trackWindowSize(ctx, (rows, cols) => client.resizeExec(created.Id, rows, cols)) : () => undefined;
    try {
      const end = await pump(ctx, conn, { tty, stdin: interactive, detachKeys: flags.str('detach-keys') });
      if (end === 'detached') return 0;
    } finally {
      stopResize();
      conn.socket.destroy();
    }
    return (await client.inspectExec(created.Id)).ExitCode ?? 0;
  },
});
