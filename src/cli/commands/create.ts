import { writeFile } from 'node:fs/promises';
import { defineCommand } from '../command.js';
import { addContainerOptions, buildCreateBody } from '../container-config.js';
import type { CliContext, Flags } from '../context.js';
import { createWithPull } from '../image-pull.js';
import { terminalSize } from '../streams/pump.js';

/** create the container (pulling if --pull says so), print warnings, write --cidfile */
export async function createFromFlags(ctx: CliContext, args: string[], flags: Flags, detach: boolean): Promise<string> {
  const [image = '', ...command] = args;
  const body = buildCreateBody(image, command, flags, ctx.env, detach);
  const size = terminalSize(ctx);
  // API 1.42+ sizes the TTY at creation; older daemons ignore it and get the resize after start
  if (flags.bool('tty') && size !== undefined && typeof body.HostConfig === 'object' && body.HostConfig !== null) {
    Object.assign(body.HostConfig, { ConsoleSize: [size.rows, size.cols] });
  }
  const created = await createWithPull(ctx, body, {
    name: flags.str('name'), pull: flags.str('pull') ?? 'missing', quiet: flags.bool('quiet'), platform: flags.str('platform'),
  });
  for (const warning of created.Warnings ?? []) ctx.err(`WARNING: ${warning}\n`);
  const cidfile = flags.str('cidfile');
  if (cidfile !== undefined) await writeFile(cidfile, created.Id, { flag: 'wx' });
  return created.Id;
}

export default defineCommand({
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create a new container',
  aliases: ['berth container create', 'berth create'],
  minArgs: 1,
  maxArgs: Infinity,
  passThrough: true,
  runStyleErrors: true,
  options: addContainerOptions,
  async run(ctx, args, flags) {
    ctx.out(`${await createFromFlags(ctx, args, flags, true)}\n`);
  },
});
