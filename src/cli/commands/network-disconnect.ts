import { defineCommand } from '../command.js';


export default defineCommand({
  usage: '[OPTIONS] NETWORK CONTAINER',
  description: 'Disconnect a container from a network',
  minArgs: 2,
  maxArgs: 2,
  options(cmd) {
    cmd.option('-f, --force', 'Force the container to disconnect from a network');
  },
  async run(ctx, [network = '', container = ''], flags) {
    await ctx.client().disconnectNetwork(network, container, flags.bool('force'));
  },
});
