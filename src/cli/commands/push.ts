import { defineCommand } from '../command.js';
import { invalidArgument } from '../../errors/berth-error.js';
import { loadAuth } from '../auth-config.js';
import { registryOf, splitReference } from '../reference.js';
import { renderProgress } from '../streams/progress.js';

export default defineCommand({
  usage: '[OPTIONS] NAME[:TAG]',
  description: 'Upload an image to a registry',
  aliases: ['berth image push', 'berth push'],
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    cmd.option('-a, --all-tags', 'Push all tags of an image to the repository')
      .option('-q, --quiet', 'Suppress verbose output');
  },
  async run(ctx, [ref = ''], flags) {
    const { repo, tag } = splitReference(ref);
    if (flags.bool('all-tags') && tag !== undefined) throw invalidArgument('TAG_WITH_ALL_TAGS', 'tag can\'t be used with --all-tags/-a');
    if (tag === undefined && !flags.bool('all-tags') && !flags.bool('quiet')) ctx.out('Using default tag: latest\n');
    const auth = await loadAuth(ctx.env, registryOf(repo));
    const res = await ctx.client().push(repo, flags.bool('all-tags') ? undefined : tag ?? 'latest', auth);
    const out = ctx.streams.stdout;
    await renderProgress(res, { write: (t) => out.write(t), isTTY: out.isTTY === true, columns: out.columns }, flags.bool('quiet'));
    if (flags.bool('quiet')) ctx.out(flags.bool('all-tags') ? `${repo}\n` : `${repo}:${tag ?? 'latest'}\n`);
  },
});
