// Signal names and numbers as `docker kill -s` and StopSignal accept them (x86-64 Linux).
import { invalidArgument } from '../../errors/berth-error.js';
import os from 'node:os';

export interface Signal {
  name: string;
  number: number;
}

const BY_NAME: Record<string, number> = { ...os.constants.signals } as Record<string, number>;

export function parseSignal(input: string | number): Signal {
  if (typeof input === 'number' || /^\d+$/.test(input)) {
    const number = Number(input);
    const name = Object.entries(BY_NAME).find(([, n]) => n === number)?.[0];
    if (name) return { name, number };
    if (number >= 34 && number <= 64) return { name: `SIGRTMIN+${number - 34}`, number };
    throw invalidArgument('BAD_SIGNAL', `invalid signal: ${input}`);
  }
  const upper = input.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const number = BY_NAME[name];
  if (number === undefined) throw invalidArgument('BAD_SIGNAL', `invalid signal: ${input}`);
  return { name, number };
}
