import { defineCommand } from '../command.js';
import { invalidArgument } from '../../errors/berth-error.js';
import { pullImage, withDefaultTag } from '../image-pull.js';
import { splitReference } from '../reference.js';

export default defineCommand({
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  description: 'Download an image from a registry',
  aliases: ['berth image pull', 'berth pull'],
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    cmd.option('-a, --all-tags', 'Download all tagged images in the repository')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('-q, --quiet', 'Suppress verbose output');
  },
  async run(ctx, [ref = ''], flags) {
    const { repo, tag, digest } = splitReference(ref);
    const quiet = flags.bool('quiet');
    if (flags.bool('all-tags')) {
      if (tag !== undefined || digest !== undefined) throw invalidArgument('TAG_WITH_ALL_TAGS', 'tag can\'t be used with --all-tags/-a');
      await pullImage(ctx, repo, { quiet, toStderr: false, platform: flags.str('platform'), allTags: true });
      ctx.out(`${repo}\n`);
      return;
    }
    const full = withDefaultTag(ref);
    if (tag === undefined && digest === undefined && !quiet) ctx.out('Using default tag: latest\n');
    await pullImage(ctx, full, { quiet, toStderr: false, platform: flags.str('platform') });
    ctx.out(`${full}\n`);
  },
});
