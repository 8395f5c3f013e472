import { defineCommand } from '../command.js';
import { listOption } from '../options.js';
import { splitReference } from '../reference.js';
import { openInput } from '../streams/output-file.js';
import { renderProgress } from '../streams/progress.js';

export default defineCommand({
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  description: 'Import the contents from a tarball to create a filesystem image',
  aliases: ['berth image import', 'berth import'],
  minArgs: 1,
  maxArgs: 2,
  options(cmd) {
    listOption(cmd, '-c, --change <list>', 'Apply Dockerfile instruction to the created image');
    cmd.option('-m, --message <string>', 'Set commit message for imported image')
      .option('--platform <string>', 'Set platform if server is multi-platform capable');
  },
  async run(ctx, [source = '', target], flags) {
    const ref = target === undefined ? { repo: undefined, tag: undefined } : splitReference(target);
    const isUrl = /^https?:\/\//.test(source);
    const body = isUrl ? source : openInput(ctx, source);
    const res = await ctx.client().importImage(body, {
      repo: ref.repo, tag: ref.tag, message: flags.str('message'), changes: flags.list('change'),
    });
    const out = ctx.streams.stdout;
    await renderProgress(res, { write: (t) => out.write(t), isTTY: false });
  },
});
