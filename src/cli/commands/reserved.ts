// network, volume and build arrive with their own issues; their names are taken now.
import { defineCommand } from '../command.js';
import { StatusExit } from '../errors.js';

export default defineCommand({
  usage: 'COMMAND',
  description: 'Not yet available in berth',
  maxArgs: Infinity,
  options(cmd) { cmd.allowUnknownOption(true); },
  async run(ctx) {
    throw new StatusExit(125, `${ctx.commandPath}: not yet implemented in berth (use the docker CLI against the same daemon for now)`);
  },
});
