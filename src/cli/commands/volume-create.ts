import { createVolume } from '../../client/volumes.js';
import { defineCommand } from '../command.js';
import { listOption } from '../options.js';

function keyValues(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0 && what === 'opt') throw new Error(`invalid argument "${item}" for "-o, --opt" flag: expected key=value`);
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return out;
}

export default defineCommand({
  usage: '[OPTIONS] [VOLUME]',
  description: 'Create a volume',
  maxArgs: 1,
  options(cmd) {
    cmd.option('-d, --driver <string>', 'Specify volume driver name', 'local');
    listOption(cmd, '-o, --opt <map>', 'Set driver specific options');
    listOption(cmd, '--label <list>', 'Set metadata for a volume');
    cmd.option('--name <string>', 'Specify volume name');
  },
  async run(ctx, args, flags) {
    const name = args[0] ?? flags.str('name');
    const volume = await createVolume(ctx.client().transport, {
      ...(name ? { Name: name } : {}), Driver: flags.str('driver') ?? 'local',
      DriverOpts: keyValues(flags.list('opt'), 'opt'), Labels: keyValues(flags.list('label'), 'label'),
    });
    ctx.out(`${volume.Name}\n`);
  },
});
