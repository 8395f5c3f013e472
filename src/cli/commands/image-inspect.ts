import { defineCommand } from '../command.js';
import { inspectObjects } from '../inspect-objects.js';

export default defineCommand({
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  description: 'Display detailed information on one or more images',
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
  },
  async run(ctx, args, flags) {
    return await inspectObjects(ctx, args, ['image'], flags.str('format'), flags.bool('size'));
  },
});
