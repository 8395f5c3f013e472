// berth-runtime kill [--all] ID [SIGNAL]
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerKill(program: Command, ctx: CliContext): void {
  program.command('kill').description('send a signal (default SIGTERM) to the container')
    .option('-a, --all', 'signal every process of the container')
    .argument('<id>').argument('[signal]', 'name or number', 'SIGTERM')
    .action(async (id: string, signal: string, flags: { all?: boolean }) => {
      await ctx.runtime().kill(id, signal, { all: flags.all ?? false });
    });
}
