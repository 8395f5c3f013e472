import { defineCommand } from '../command.js';
import { inspectObjects } from '../inspect-objects.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Display detailed information on one or more containers',
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
    cmd.option('-s, --size', 'Display total file sizes');
  },
  async run(ctx, args, flags) {
    return await inspectObjects(ctx, args, ['container'], flags.str('format'), flags.bool('size'));
  },
});
