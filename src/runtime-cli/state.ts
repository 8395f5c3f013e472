// berth-runtime state ID: the OCI state as JSON
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerState(program: Command, ctx: CliContext): void {
  program.command('state').description('print the state of a container as JSON').argument('<id>')
    .action(async (id: string) => {
      const runtime = ctx.runtime();
      const state = await runtime.state(id);
      const record = await runtime.store.load(id);
      ctx.out(JSON.stringify({ ...state, pid: state.pid ?? 0, rootfs: record.rootfs, created: record.created, owner: '' }, null, 2));
    });
}
