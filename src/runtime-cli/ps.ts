// berth-runtime ps [--format table|json] ID
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerPs(program: Command, ctx: CliContext): void {
  program.command('ps').description('list the processes of a container')
    .option('-f, --format <format>', 'table or json', 'table')
    .argument('<id>')
    .action(async (id: string, flags: { format: string }) => {
      const procs = await ctx.runtime().ps(id);
      if (flags.format === 'json') { ctx.out(JSON.stringify(procs.map((p) => p.pid))); return; }
      ctx.out('PID     CMD');
      for (const p of procs) ctx.out(`${String(p.pid).padEnd(8)}${p.args.join(' ')}`);
    });
}
