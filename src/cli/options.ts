// Option helpers with docker's flag semantics: repeatable lists, sizes, numbers and
// durations that fail with docker's message ("invalid argument "12xb" for "-m, --memory"
// flag: ...") before anything is sent to the daemon.
import { Option, type Command } from 'commander';
import { UsageError } from './errors.js';
import { parseGoDuration, parseRamSize } from './format/units.js';

function flagLabel(flags: string): string {
  return flags.replace(/\s*[<[].*$/, '').trim();
}

function checked<T>(flags: string, parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new UsageError(`invalid argument "${value}" for "${flagLabel(flags)}" flag: ${reason}`, 125);
    }
  };
}

export function listOption(cmd: Command, flags: string, description: string): void {
  cmd.addOption(new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]));
}

export function sizeOption(cmd: Command, flags: string, description: string): void {
  cmd.addOption(new Option(flags, description).argParser(checked(flags, parseRamSize)));
}

export function intOption(cmd: Command, flags: string, description: string, defaultValue?: number): void {
  const option = new Option(flags, description).argParser(checked(flags, (value) => {
    if (!/^-?\d+$/.test(value)) throw new Error(`strconv.ParseInt: parsing "${value}": invalid syntax`);
    return Number(value);
  }));
  cmd.addOption(defaultValue === undefined ? option : option.default(defaultValue));
}

export function floatOption(cmd: Command, flags: string, description: string): void {
  cmd.addOption(new Option(flags, description).argParser(checked(flags, (value) => {
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error(`strconv.ParseFloat: parsing "${value}": invalid syntax`);
    return Number(value);
  })));
}

/** A Go duration flag, kept in milliseconds. */
export function durationOption(cmd: Command, flags: string, description: string): void {
  cmd.addOption(new Option(flags, description).argParser(checked(flags, parseGoDuration)));
}

export function formatOption(cmd: Command, what = 'output'): void {
  cmd.option('--format <string>', `Format ${what} using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template`);
}
