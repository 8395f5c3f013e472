import { defineCommand } from '../command.js';
import { splitReference } from '../reference.js';

export default defineCommand({
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, [source = '', target = '']) {
    const { repo, tag } = splitReference(target);
    await ctx.client().tagImage(source, repo, tag);
  },
});
