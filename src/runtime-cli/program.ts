// The berth-runtime command line: parse argv, run the verb for one caller, return the exit
// code. Errors print "berth-runtime: <message>" and give exit code 1, as runc does.
import { Command, CommanderError } from 'commander';
import { BerthError } from '../errors/berth-error.js';
import type { BuiltinRuntime } from '../runtime/builtin-runtime.js';
import { DEFAULT_RUNTIME_ROOT } from '../runtime/state-store.js';
import { makeContext, type CallerIo, type GlobalOptions } from './context.js';
import { registerCreate } from './create.js';
import { registerDelete } from './delete.js';
import { registerExec } from './exec.js';
import { registerKill } from './kill.js';
import { registerList } from './list.js';
import { registerPause } from './pause.js';
import { registerPs } from './ps.js';
import { registerRun } from './run.js';
import { registerStart } from './start.js';
import { registerState } from './state.js';

/** `args`: the command line after the program name. */
export async function runCommandLine(args: readonly string[], io: CallerIo, runtimeFor: (root: string) => BuiltinRuntime): Promise<number> {
  const program = new Command('berth-runtime')
    .description('an OCI runtime (runc-compatible command line)')
    .option('--root <dir>', 'state directory', io.env['BERTH_RUNTIME_ROOT'] ?? DEFAULT_RUNTIME_ROOT)
    .option('--log <file>', 'accepted for runc compatibility')
    .option('--log-format <format>', 'accepted for runc compatibility')
    .option('--debug', 'accepted for runc compatibility')
    .option('--systemd-cgroup', 'accepted for runc compatibility (cgroupfs is always used)')
    .option('--rootless <value>', 'accepted for runc compatibility')
    .enablePositionalOptions()
    .configureOutput({ writeOut: (text) => { io.out(text); }, writeErr: (text) => { io.err(text); } })
    .exitOverride();

  const ctx = makeContext(io, () => program.opts<GlobalOptions>(), runtimeFor);
  for (const register of [registerCreate, registerStart, registerState, registerKill, registerDelete, registerRun,
    registerExec, registerList, registerPs, registerPause]) register(program, ctx);

  try {
    await program.parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    io.err(`berth-runtime: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof BerthError && err.hint) io.err(`hint: ${err.hint}\n`);
    return 1;
  }
}
