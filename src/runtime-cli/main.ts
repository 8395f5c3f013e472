// berth-runtime: the runc-compatible command line of the built-in OCI runtime.
// Errors print "berth-runtime: <message>" and exit 1, as runc does.
import { Command, CommanderError } from 'commander';
import { BerthError } from '../errors/berth-error.js';
import { DEFAULT_RUNTIME_ROOT } from '../runtime/state-store.js';
import { makeContext, type GlobalOptions } from './context.js';
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

/** Parse argv (node's own, then the program name, then ours) and run the verb; sets process.exitCode. */
function runMain(argv: readonly string[]): void {
  const program = new Command('berth-runtime')
    .description('an OCI runtime (runc-compatible command line)')
    .option('--root <dir>', 'state directory', process.env['BERTH_RUNTIME_ROOT'] ?? DEFAULT_RUNTIME_ROOT)
    .option('--log <file>', 'accepted for runc compatibility')
    .option('--log-format <format>', 'accepted for runc compatibility')
    .option('--debug', 'accepted for runc compatibility')
    .option('--systemd-cgroup', 'accepted for runc compatibility (cgroupfs is always used)')
    .option('--rootless <value>', 'accepted for runc compatibility')
    .enablePositionalOptions()
    .exitOverride();

  const ctx = makeContext(() => program.opts<GlobalOptions>());
  for (const register of [registerCreate, registerStart, registerState, registerKill, registerDelete, registerRun,
    registerExec, registerList, registerPs, registerPause]) register(program, ctx);

  // no top-level await: the start-up bundle is CommonJS so V8 can cache its compiled code
  program.parseAsync(argv).then(() => {
    process.exitCode = ctx.exitCode;
  }, (err: unknown) => {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 1;
    } else {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`berth-runtime: ${message}\n`);
      if (err instanceof BerthError && err.hint) process.stderr.write(`hint: ${err.hint}\n`);
      process.exitCode = 1;
    }
  });
}

runMain(process.argv);
