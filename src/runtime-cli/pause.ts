// berth-runtime pause ID / resume ID (cgroup freezer)
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerPause(program: Command, ctx: CliContext): void {
  program.command('pause').description('freeze every process of the container').argument('<id>')
    .action(async (id: string) => { await ctx.runtime().pause(id); });
  program.command('resume').description('thaw a paused container').argument('<id>')
    .action(async (id: string) => { await ctx.runtime().resume(id); });
}
