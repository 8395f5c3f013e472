import { defineCommand } from '../command.js';
import { removeAuth } from '../auth-config.js';

export default defineCommand({
  usage: '[SERVER]',
  description: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
  maxArgs: 1,
  async run(ctx, [server]) {
    const name = server ?? 'https://index.docker.io/v1/';
    if (await removeAuth(ctx.env, server)) ctx.out(`Removing login credentials for ${name}\n`);
    else ctx.out(`Not logged in to ${name}\n`);
  },
});
