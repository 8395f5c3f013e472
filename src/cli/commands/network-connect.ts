import { defineCommand } from '../command.js';
import { listOption } from '../options.js';

export default defineCommand({
  usage: '[OPTIONS] NETWORK CONTAINER',
  description: 'Connect a container to a network',
  minArgs: 2,
  maxArgs: 2,
  options(cmd) {
    listOption(cmd, '--alias <strings>', 'Add network-scoped alias for the container');
    cmd.option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
      .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")');
  },
  async run(ctx, [network = '', container = ''], flags) {
    const ip = flags.str('ip');
    const ip6 = flags.str('ip6');
    await ctx.client().connectNetwork(network, container, {
      Aliases: flags.list('alias'),
      IPAMConfig: ip === undefined && ip6 === undefined ? undefined : { IPv4Address: ip, IPv6Address: ip6 },
    });
  },
});
