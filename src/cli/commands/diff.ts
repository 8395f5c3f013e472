import { defineCommand } from '../command.js';

const KINDS = ['C', 'A', 'D'];

export default defineCommand({
  usage: 'CONTAINER',
  description: "Inspect changes to files or directories on a container's filesystem",
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, [container = '']) {
    const changes = await ctx.client().changes(container);
    ctx.out(changes.map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  },
});
