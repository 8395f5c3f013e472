// berth-runtime list [--format table|json] [-q]
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerList(program: Command, ctx: CliContext): void {
  program.command('list').alias('ls').description('list the containers under --root')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only the ids')
    .action(async (flags: { format: string; quiet?: boolean }) => {
      const states = await ctx.runtime().list();
      if (flags.quiet) { for (const s of states) ctx.out(s.id); return; }
      if (flags.format === 'json') { ctx.out(JSON.stringify(states)); return; }
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE'], ...states.map((s) => [s.id, String(s.pid ?? 0), s.status, s.bundle])];
      const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
      for (const row of rows) ctx.out(row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('   ').trimEnd());
    });
}
