// berth-runtime create --bundle DIR [--pid-file F] [--console-socket S] ID
import type { Command } from 'commander';
import { invalidArgument } from '../errors/berth-error.js';
import { loadBundleSpec } from '../runtime/builtin-runtime.js';
import type { CliContext } from './context.js';

export interface CreateFlags { bundle?: string; pidFile?: string; consoleSocket?: string }

/** create detached (the shim outlives us); stdio is ours, handed to the container */
export async function createDetached(ctx: CliContext, id: string, flags: CreateFlags): Promise<void> {
  const bundle = ctx.resolve(flags.bundle ?? '.');
  const spec = await loadBundleSpec(bundle);
  if (spec.process?.terminal && !flags.consoleSocket) {
    throw invalidArgument('CONSOLE_SOCKET_REQUIRED', 'process.terminal is true: a detached container needs --console-socket');
  }
  await ctx.runtime().create(id, bundle, {
    stdio: ctx.io.stdio, inherit: ctx.io.inherit, detach: true, consoleSocket: flags.consoleSocket && ctx.resolve(flags.consoleSocket),
    pidFile: flags.pidFile && ctx.resolve(flags.pidFile),
  });
}

export function registerCreate(program: Command, ctx: CliContext): void {
  program.command('create')
    .description('create a container from a bundle; its program starts with `start`')
    .option('-b, --bundle <dir>', 'the bundle directory', '.')
    .option('--pid-file <file>', 'write the container pid to this file')
    .option('--console-socket <path>', 'send the pty master to this unix socket')
    .option('--no-pivot', 'accepted for runc compatibility (pivot_root is always used)')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .argument('<id>')
    .action(async (id: string, flags: CreateFlags) => { await createDetached(ctx, id, flags); });
}
