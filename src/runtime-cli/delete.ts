// berth-runtime delete [--force] ID
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerDelete(program: Command, ctx: CliContext): void {
  program.command('delete').description('remove a stopped container (--force: kill it first)')
    .option('-f, --force', 'kill a running container first')
    .argument('<id>')
    .action(async (id: string, flags: { force?: boolean }) => { await ctx.runtime().delete(id, { force: flags.force ?? false, warn: ctx.warn }); });
}
