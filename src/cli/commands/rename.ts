import { defineCommand } from '../command.js';

export default defineCommand({
  usage: 'CONTAINER NEW_NAME',
  description: 'Rename a container',
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, [container = '', name = '']) {
    if (name.trim() === '') throw new Error('Error: Neither old nor new names may be empty');
    await ctx.client().renameContainer(container, name);
  },
});
