import { StdDemuxer } from '../../client/stdcopy.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { parseGoDuration } from '../format/units.js';

/** --since/--until: a unix timestamp, an RFC 3339 date, or a Go duration before now */
export function timestampParam(value: string | undefined, now = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return String(Math.floor(date / 1000));
  try {
    return String(Math.floor((now - parseGoDuration(value)) / 1000));
  } catch {
    throw new UsageError(`invalid value for "since": failed to parse value as time or duration: "${value}"`, 1, false);
  }
}

export default defineCommand({
  usage: '[OPTIONS] CONTAINER',
  description: 'Fetch the logs of a container',
  minArgs: 1,
  maxArgs: 1,
  options(cmd) {
    cmd.option('--details', 'Show extra details provided to logs')
      .option('-f, --follow', 'Follow log output')
      .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
      .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
      .option('-t, --timestamps', 'Show timestamps')
      .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)');
  },
  async run(ctx, [container = ''], flags) {
    const client = ctx.client();
    const info = await client.inspectContainer(container);
    const res = await client.logs(container, {
      stdout: true, stderr: true, follow: flags.bool('follow') || undefined, timestamps: flags.bool('timestamps') || undefined,
      details: flags.bool('details') || undefined, tail: flags.str('tail'),
      since: timestampParam(flags.str('since')), until: timestampParam(flags.str('until')),
    });
    if (info.Config.Tty === true) {
      for await (const chunk of res) ctx.streams.stdout.write(chunk as Buffer);
      return 0;
    }
    const demux = new StdDemuxer((stream, data) => { (stream === 'stderr' ? ctx.streams.stderr : ctx.streams.stdout).write(data); });
    for await (const chunk of res) demux.push(chunk as Buffer);
    return 0;
  },
});
