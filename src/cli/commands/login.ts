import { createInterface } from 'node:readline/promises';
import { defineCommand } from '../command.js';
import { saveAuth } from '../auth-config.js';
import { UsageError } from '../errors.js';
import { readText } from '../../client/transport.js';

export default defineCommand({
  usage: '[OPTIONS] [SERVER]',
  description: 'Log in to a registry.\nIf no server is specified, the default is defined by the daemon.',
  maxArgs: 1,
  options(cmd) {
    cmd.option('-p, --password <string>', 'Password')
      .option('--password-stdin', 'Take the password from stdin')
      .option('-u, --username <string>', 'Username');
  },
  async run(ctx, [server], flags) {
    let username = flags.str('username');
    let password = flags.str('password');
    if (flags.bool('password-stdin')) {
      if (password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive', 1, false);
      if (username === undefined) throw new UsageError('Must provide --username with --password-stdin', 1, false);
      password = (await readText(ctx.streams.stdin)).replace(/\r?\n$/, '');
    } else if (password !== undefined) {
      ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (username === undefined || password === undefined) {
      const rl = createInterface({ input: ctx.streams.stdin, output: ctx.streams.stderr });
      username ??= (await rl.question('Username: ')).trim();
      password ??= await rl.question('Password: ');
      rl.close();
    }
    if (username === '' || password === '') throw new UsageError('Error: Non-null Username Required', 1, false);
    const result = await ctx.client().login({ username, password, serveraddress: server ?? '' });
    await saveAuth(ctx.env, server, username, password);
    ctx.out(`${result.Status ?? 'Login Succeeded'}\n`);
  },
});
