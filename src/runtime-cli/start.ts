// berth-runtime start ID
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerStart(program: Command, ctx: CliContext): void {
  program.command('start').description('run the program of a created container').argument('<id>')
    .action(async (id: string) => { await ctx.runtime().start(id); });
}
