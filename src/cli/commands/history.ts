import { defineCommand } from '../command.js';
import { ellipsis, shortId } from '../format/containers.js';
import { renderList, type ListSpec } from '../format/render.js';
import { ago, goTime, humanSize } from '../format/units.js';
import { formatOption } from '../options.js';

const HISTORY_SPEC: ListSpec = {
  defaultFormat: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
  headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
  typeName: '*formatter.historyContext',
};

export default defineCommand({
  usage: '[OPTIONS] IMAGE',
  description: 'Show the history of an image',
  aliases: ['berth image history', 'berth history'],
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    formatOption(cmd);
    cmd.option('-H, --human [bool]', 'Print sizes and dates in human readable format (default true)')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs');
  },
  async run(ctx, [image = ''], flags) {
    const trunc = flags.bool('trunc');
    const human = flags.str('human') !== 'false';
    const rows = (await ctx.client().history(image)).map((h) => {
      const createdBy = h.CreatedBy.replace(/\t/g, ' ');
      return {
        ID: h.Id === '<missing>' ? '<missing>' : trunc ? shortId(h.Id) : h.Id,
        CreatedSince: human ? ago(h.Created) : goTime(h.Created),
        CreatedAt: goTime(h.Created),
        CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
        Size: human ? humanSize(h.Size) : String(h.Size),
        Comment: h.Comment ?? '',
      };
    });
    ctx.out(renderList(rows, HISTORY_SPEC, flags.str('format'), flags.bool('quiet')));
  },
});
