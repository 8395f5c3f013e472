// berth-runtime run --bundle DIR ID: create, start, wait, delete; exits with the program's code
import type { Command } from 'commander';
import { loadBundleSpec } from '../runtime/builtin-runtime.js';
import type { CliContext } from './context.js';
import { createDetached } from './create.js';

interface RunFlags { bundle?: string; pidFile?: string; consoleSocket?: string; detach?: boolean; keep?: boolean }

export function registerRun(program: Command, ctx: CliContext): void {
  program.command('run').description('create and start a container, wait for it and delete it')
    .option('-b, --bundle <dir>', 'the bundle directory', '.')
    .option('--pid-file <file>', 'write the container pid to this file')
    .option('--console-socket <path>', 'send the pty master to this unix socket')
    .option('-d, --detach', 'do not wait for the container')
    .option('--keep', 'do not delete the container after it exits')
    .option('--no-pivot', 'accepted for runc compatibility')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .argument('<id>')
    .action(async (id: string, flags: RunFlags) => {
      const runtime = ctx.runtime();
      if (flags.detach) {
        await createDetached(ctx, id, flags);
        await runtime.start(id);
        return;
      }
      const bundle = ctx.resolve(flags.bundle ?? '.');
      const spec = await loadBundleSpec(bundle);
      const relay = spec.process?.terminal === true && !flags.consoleSocket;
      const handle = await runtime.create(id, bundle, {
        spec, stdio: relay && ctx.io.stdio === 'inherit' ? 'pipe' : ctx.io.stdio, inherit: ctx.io.inherit,
        consoleSocket: flags.consoleSocket && ctx.resolve(flags.consoleSocket), pidFile: flags.pidFile && ctx.resolve(flags.pidFile),
      });
      const exited = ctx.io.foreground(handle);
      await runtime.start(id);
      ctx.exitCode = await exited;
      if (!flags.keep) await runtime.delete(id, { force: true, warn: ctx.warn });
    });
}
