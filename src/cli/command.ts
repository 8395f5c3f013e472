// The shape of one verb: its usage line, its options, and what it does. Commands return
// an exit status; printing goes through ctx (the reporter helpers in format/).
import type { Command } from 'commander';
import type { CliContext, Flags } from './context.js';

export interface CommandDef {
  /** after the command path: "[OPTIONS] CONTAINER [CONTAINER...]" */
  usage: string;
  description: string;
  aliases?: string[];
  minArgs?: number;
  maxArgs?: number;
  /** options after the first argument belong to it (run IMAGE ls -l) */
  passThrough?: boolean;
  /** errors are reported as docker run does: "docker: ...", exit 125/126/127 */
  runStyleErrors?: boolean;
  options?(cmd: Command): void;
  run(ctx: CliContext, args: string[], flags: Flags): Promise<number | void>;
}

export function defineCommand(def: CommandDef): CommandDef {
  return def;
}
