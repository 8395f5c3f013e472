// errno numbers (Linux, x86_64/arm64 generic) to their names, for helper failures.
import { constants } from 'node:os';

const names = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}
