import { defineCommand } from '../command.js';
import { listOption } from '../options.js';
import { splitReference } from '../reference.js';

export default defineCommand({
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  description: "Create a new image from a container's changes",
  minArgs: 1,
  maxArgs: 2,
  options(cmd) {
    cmd.option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")');
    listOption(cmd, '-c, --change <list>', 'Apply Dockerfile instruction to the created image');
    cmd.option('-m, --message <string>', 'Commit message')
      .option('-p, --pause [bool]', 'Pause container during commit (default true)');
  },
  async run(ctx, [container = '', target], flags) {
    const ref = target === undefined ? { repo: undefined, tag: undefined } : splitReference(target);
    const created = await ctx.client().commit(container, {
      repo: ref.repo, tag: ref.tag, author: flags.str('author'), comment: flags.str('message'),
      changes: flags.list('change'), pause: flags.str('pause') !== 'false',
    }, {});
    ctx.out(`${created.Id}\n`);
  },
});
