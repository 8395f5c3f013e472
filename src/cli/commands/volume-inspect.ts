import { inspectVolumeRaw } from '../../client/volumes.js';
import { defineCommand } from '../command.js';
import { isDaemonError, StatusExit } from '../errors.js';
import { indentJson, renderOne } from '../format/render.js';

export default defineCommand({
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  description: 'Display detailed information on one or more volumes',
  minArgs: 1,
  maxArgs: Infinity,
  options(cmd) {
    cmd.option('-f, --format <string>', 'Format output using a custom template');
  },
  async run(ctx, args, flags) {
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of args) {
      try {
        found.push(await inspectVolumeRaw(ctx.client().transport, name));
      } catch (err) {
        if (!(isDaemonError(err) && err.kind === 'not_found')) throw err;
        missing.push(name);
      }
    }
    const format = flags.str('format');
    if (format === undefined) ctx.out(`${indentJson(found)}\n`);
    else for (const value of found) ctx.out(renderOne(value, format));
    if (missing.length > 0) throw new StatusExit(1, missing.map((m) => `Error: No such volume: ${m}`).join('\n'));
  },
});
