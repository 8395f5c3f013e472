import { defineCommand } from '../command.js';
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
    splitReference(ref);
    const full = withDefaultTag(ref);
    if (!ref.includes(':') && !ref.includes('@') && !flags.bool('quiet')) ctx.out('Using default tag: latest\n');
    await pullImage(ctx, full, { quiet: flags.bool('quiet'), toStderr: false, platform: flags.str('platform') });
    ctx.out(`${full}\n`);
  },
});
