// The command line's driver: global flags, finding the verb, loading only its module,
// parsing its flags with commander, and turning failures into docker's messages and
// exit codes.
import { Command, CommanderError } from 'commander';
import { chooseHost } from '../client/host.js';
import type { TlsFlags } from '../client/tls-config.js';
import { BerthError } from '../errors/berth-error.js';
import type { CommandDef } from './command.js';
import { CliContext, Flags, type Streams } from './context.js';
import { describeError, isDaemonError, runFailureCode, StatusExit, UsageError } from './errors.js';
import { commandHelp, managementHelp, topLevelHelp } from './help.js';
import { lookupCommand } from './registry.js';

export const PROGRAM = 'berth';
export const CLI_VERSION = '0.1.0';

interface Globals { host: string | undefined; debug: boolean; help: boolean; version: boolean; tls: TlsFlags; rest: string[] }

/** --tls=false and --tlsverify=true as pflag reads booleans */
function boolFlag(name: string, inline: string | undefined): boolean {
  if (inline === undefined || inline === 'true' || inline === '1') return true;
  if (inline === 'false' || inline === '0') return false;
  throw new UsageError(`invalid argument "${inline}" for "${name}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax`, 125);
}

/** Global flags come before the verb, as with docker. */
export function parseGlobals(argv: readonly string[]): Globals {
  const globals: Globals = { host: undefined, debug: false, help: false, version: false, tls: {}, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') break;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`flag needs an argument: ${name}`, 125);
      return next;
    };
    if (name === '-H' || name === '--host') globals.host = value();
    else if (name === '-D' || name === '--debug') globals.debug = true;
    else if (name === '-l' || name === '--log-level' || name === '--config') value();
    else if (name === '-h' || name === '--help') globals.help = true;
    else if (name === '-v' || name === '--version') globals.version = true;
    else if (name === '--tls' || name === '--tlsverify') globals.tls[name === '--tls' ? 'tls' : 'tlsverify'] = boolFlag(name, inline);
    else if (name === '--tlscacert' || name === '--tlscert' || name === '--tlskey') globals.tls[name === '--tlscacert' ? 'tlscacert' : name === '--tlscert' ? 'tlscert' : 'tlskey'] = value();
    else if (name === '-c' || name === '--context') throw new UsageError(`${PROGRAM} has no contexts: use -H, BERTH_HOST or DOCKER_HOST`, 125);
    else throw new UsageError(`unknown flag: ${name}`, 125);
  }
  globals.rest = argv.slice(i);
  return globals;
}

function buildCommander(def: CommandDef, path: string): Command {
  const cmd = new Command(path).helpOption(false).allowUnknownOption(false).allowExcessArguments(true)
    .argument('[args...]').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  cmd.option('--help', 'Print usage');
  if (def.passThrough === true) cmd.passThroughOptions();
  def.options?.(cmd);
  return cmd;
}

function commanderToUsage(err: CommanderError): UsageError {
  const flag = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  if (err.code === 'commander.unknownOption') return new UsageError(`unknown flag: ${flag}`, 125);
  if (err.code === 'commander.optionMissingArgument') {
    const name = flag.replace(/\s*[<[].*$/, '').split(/,\s*/).pop() ?? flag;
    return new UsageError(`flag needs an argument: ${name.startsWith('--') ? name : `'${name.replace(/^-/, '')}' in ${name}`}`, 125);
  }
  return new UsageError(err.message.replace(/^error: /, ''), 125);
}

function checkArgCount(def: CommandDef, path: string, args: string[]): void {
  const min = def.minArgs ?? 0;
  const max = def.maxArgs ?? Infinity;
  const plural = (n: number): string => `${n} argument${n === 1 ? '' : 's'}`;
  if (min === max && args.length !== min) throw new UsageError(`${PROGRAM}: '${path}' requires ${min === 0 ? 'no arguments' : `exactly ${plural(min)}`}`, 1);
  if (args.length < min) throw new UsageError(`${PROGRAM}: '${path}' requires at least ${plural(min)}`, 1);
  if (args.length > max) throw new UsageError(`${PROGRAM}: '${path}' requires at most ${plural(max)}`, 1);
}

async function runCommand(def: CommandDef, words: string[], args: string[], globals: Globals, env: NodeJS.ProcessEnv, streams: Streams): Promise<number> {
  const path = `${PROGRAM} ${words.join(' ')}`;
  const usageLine = `Usage:  ${path} ${def.usage}`;
  const cmd = buildCommander(def, path);
  const ctx = new CliContext(chooseHost(globals.host, env), env, streams, path, env.BERTH_API_VERSION ?? env.DOCKER_API_VERSION, globals.tls);
  try {
    try {
      await cmd.parseAsync(args, { from: 'user' });
    } catch (err) {
      if (err instanceof CommanderError) throw commanderToUsage(err);
      throw err;
    }
    const flags = new Flags(cmd.opts());
    if (flags.bool('help')) { ctx.out(commandHelp(def, path, cmd)); return 0; }
    const positional = cmd.args;
    checkArgCount(def, path, positional);
    return (await def.run(ctx, positional, flags)) ?? 0;
  } catch (err) {
    return reportFailure(err, def, path, usageLine, ctx);
  } finally {
    ctx.close();
  }
}

function reportFailure(err: unknown, def: CommandDef, path: string, usageLine: string, ctx: CliContext): number {
  if (err instanceof StatusExit) {
    if (err.message !== '') ctx.err(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UsageError) {
    const prefix = err.exitCode === 1 ? '' : '';
    ctx.err(`${prefix}${err.message}\n${err.showUsage ? `\n${usageLine}\n\n${err.exitCode === 1 ? 'See' : 'Run'} '${path} --help' for more information\n` : ''}`);
    return err.exitCode;
  }
  if (def.runStyleErrors === true && !(err instanceof BerthError && err.kind === 'unavailable')) {
    ctx.err(`${PROGRAM}: ${describeError(err)}\n\nRun '${path} --help' for more information\n`);
    return isDaemonError(err) ? runFailureCode(err) : 125;
  }
  ctx.err(`${describeError(err)}\n`);
  if (!(err instanceof BerthError) && process.env.BERTH_DEBUG !== undefined && err instanceof Error) ctx.err(`${err.stack ?? ''}\n`);
  return 1;
}

/** Run the command line; resolves to the exit status. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, streams: Streams): Promise<number> {
  let globals: Globals;
  try {
    globals = parseGlobals(argv);
  } catch (err) {
    streams.stderr.write(`${describeError(err)}\nSee '${PROGRAM} --help'.\n`);
    return 125;
  }
  if (globals.version) { streams.stdout.write(`${PROGRAM} version ${CLI_VERSION}\n`); return 0; }
  let words = globals.rest;
  if (words[0] === 'help') words = [...words.slice(1), '--help'];
  const found = lookupCommand(words);
  if (found === undefined) {
    if (words.length === 0 || words[0] === '--help') { streams.stdout.write(topLevelHelp()); return 0; }
    streams.stderr.write(`${PROGRAM}: unknown command: ${PROGRAM} ${words[0] ?? ''}\n\nRun '${PROGRAM} --help' for more information\n`);
    return 1;
  }
  if ('management' in found) {
    const sub = words[1];
    if (sub === undefined || sub === '--help') { streams.stdout.write(managementHelp(found.management)); return 0; }
    streams.stderr.write(`${PROGRAM}: unknown command: ${PROGRAM} ${found.management} ${sub}\n\nRun '${PROGRAM} ${found.management} --help' for more information\n`);
    return 1;
  }
  const def = (await found.entry.load()).default;
  return await runCommand(def, found.path, words.slice(found.path.length), globals, env, streams);
}
