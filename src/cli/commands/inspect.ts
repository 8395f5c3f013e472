import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { inspectObjects, type ObjectKind } from '../inspect-objects.js';

export default defineCommand({
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  description: 'Return low-level information on Docker objects',
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template")
      .option('-s, --size', 'Display total file sizes if the type is container')
      .option('--type <string>', 'Return JSON for specified type');
  },
  async run(ctx, args, flags) {
    const type = flags.str('type');
    if (type !== undefined && type !== 'container' && type !== 'image') {
      throw new UsageError(`"${type}" is not a valid value for --type`, 1, false);
    }
    const kinds: ObjectKind[] = type === undefined ? ['container', 'image'] : [type];
    return await inspectObjects(ctx, args, kinds, flags.str('format'), flags.bool('size'));
  },
});
