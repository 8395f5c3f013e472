// berth-runtime exec [options] ID [CMD ARGS...] (or -p process.json)
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../errors/berth-error.js';
import { parseProcessSpec, type Process } from '../oci/runtime-spec.js';
import { loadBundleSpec } from '../runtime/builtin-runtime.js';
import type { CliContext } from './context.js';

interface ExecFlags {
  process?: string; tty?: boolean; consoleSocket?: string; pidFile?: string; detach?: boolean;
  cwd?: string; env: string[]; user?: string; cap: string[]; noNewPrivs?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The process to run: -p's file, or the container's own process with the given command and flags. */
async function execProcess(ctx: CliContext, id: string, command: string[], flags: ExecFlags): Promise<Process> {
  if (flags.process) {
    const file = ctx.resolve(flags.process);
    return parseProcessSpec(JSON.parse(await readFile(file, 'utf8')), file);
  }
  if (command.length === 0) throw invalidArgument('NO_COMMAND', 'exec: give a command or -p process.json');
  const record = await ctx.runtime().store.load(id);
  const base = (await loadBundleSpec(record.bundle)).process;
  const proc: Process = { ...base, user: base?.user ?? { uid: 0, gid: 0 }, cwd: flags.cwd ?? base?.cwd ?? '/', args: command };
  proc.terminal = flags.tty ?? false;
  if (flags.env.length > 0) proc.env = [...(proc.env ?? []), ...flags.env];
  if (flags.user) {
    const [uid, gid] = flags.user.split(':').map(Number);
    if (uid === undefined || !Number.isInteger(uid)) throw invalidArgument('INVALID_USER', `--user ${flags.user}: expected uid[:gid]`);
    proc.user = { uid, gid: gid !== undefined && Number.isInteger(gid) ? gid : 0 };
  }
  if (flags.cap.length > 0) {
    const caps = proc.capabilities ?? {};
    const add = (set: string[] | undefined): string[] => [...new Set([...(set ?? []), ...flags.cap])];
    proc.capabilities = { ...caps, bounding: add(caps.bounding), effective: add(caps.effective), permitted: add(caps.permitted) };
  }
  if (flags.noNewPrivs) proc.noNewPrivileges = true;
  return proc;
}

export function registerExec(program: Command, ctx: CliContext): void {
  program.command('exec').description('run a new process inside a running container')
    .option('-p, --process <file>', 'process.json to run')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('--console-socket <path>', 'send the pty master to this unix socket')
    .option('--pid-file <file>', 'write the process pid to this file')
    .option('-d, --detach', 'do not wait for the process')
    .option('--cwd <dir>', 'working directory')
    .option('-e, --env <VAR=value>', 'add an environment variable', collect, [])
    .option('-u, --user <uid[:gid]>', 'user to run as')
    .option('-c, --cap <CAP>', 'add a capability', collect, [])
    .option('--no-new-privs', 'set no_new_privileges')
    .argument('<id>').argument('[command...]')
    .passThroughOptions()
    .action(async (id: string, command: string[], flags: ExecFlags) => {
      const proc = await execProcess(ctx, id, command, flags);
      const relay = proc.terminal === true && !flags.consoleSocket;
      const detach = flags.detach ?? false;
      if (proc.terminal && detach && !flags.consoleSocket) {
        throw invalidArgument('CONSOLE_SOCKET_REQUIRED', 'exec -t -d needs --console-socket');
      }
      const handle = await ctx.runtime().exec(id, proc, {
        stdio: relay && ctx.io.stdio === 'inherit' ? 'pipe' : ctx.io.stdio, inherit: ctx.io.inherit, detach,
        consoleSocket: flags.consoleSocket && ctx.resolve(flags.consoleSocket), pidFile: flags.pidFile && ctx.resolve(flags.pidFile),
      });
      if (!detach) ctx.exitCode = await ctx.io.foreground(handle);
    });
}
