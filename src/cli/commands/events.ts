import { jsonLines } from '../../client/json-stream.js';
import { decodeEvent, type DaemonEvent } from '../../client/types.js';
import { defineCommand } from '../command.js';
import { renderOne } from '../format/render.js';
import { formatOption, listOption } from '../options.js';
import { parseFilters } from './ps.js';
import { timestampParam } from './logs.js';

/** "2026-11-27T21:11:52.123456789Z container start abc (image=x, name=y)" */
export function eventLine(e: DaemonEvent, timeNano?: bigint): string {
  const nanos = timeNano ?? BigInt(e.time ?? 0) * 1_000_000_000n;
  const seconds = Number(nanos / 1_000_000_000n);
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0');
  const stamp = `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
  const attrs = Object.entries(e.Actor?.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
  return `${stamp} ${e.Type ?? ''} ${e.Action ?? e.status ?? ''} ${e.Actor?.ID ?? e.id ?? ''}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}`;
}

export default defineCommand({
  usage: '[OPTIONS]',
  description: 'Get real time events from the server',
  aliases: ['berth system events', 'berth events'],
  maxArgs: 0,
  options(cmd) {
    listOption(cmd, '-f, --filter <filter>', 'Filter output based on conditions provided');
    formatOption(cmd);
    cmd.option('--since <string>', 'Show all events created since timestamp')
      .option('--until <string>', 'Stream events until this timestamp');
  },
  async run(ctx, _args, flags) {
    const res = await ctx.client().events({
      since: timestampParam(flags.str('since')), until: timestampParam(flags.str('until')), filters: parseFilters(flags.list('filter')),
    });
    const format = flags.str('format');
    for await (const { value, text } of jsonLines(res)) {
      const event = decodeEvent(value, 'event');
      // timeNano exceeds 2^53: read its digits from the text, not the parsed number
      const nanos = /"timeNano":\s*(\d+)/.exec(text)?.[1];
      ctx.out(format === undefined ? `${eventLine(event, nanos === undefined ? undefined : BigInt(nanos))}\n` : renderOne(event, format === 'json' ? '{{json .}}' : format));
    }
  },
});
