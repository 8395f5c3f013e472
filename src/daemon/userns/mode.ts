// --userns values: host (the host's user namespace), remap|private and auto[:size=N] (a
// private block of subordinate ids per container), keep-id (rootless: the user stays
// itself inside). '' means the daemon's default (--userns-remap makes it remap).
import { invalidArgument } from '../../errors/berth-error.js';

export type UsernsMode =
  | { kind: 'host' }
  | { kind: 'remap'; size?: number }
  | { kind: 'keep-id' };

/** Ids per container unless auto:size=N says otherwise: uid 0..65535 as in a normal system. */
export const DEFAULT_BLOCK_SIZE = 65536;
const MIN_BLOCK_SIZE = 1024;
const MAX_BLOCK_SIZE = 65536 * 16;

/** undefined: not given (the daemon's default applies). */
export function parseUsernsMode(value: string | undefined): UsernsMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'host') return { kind: 'host' };
  if (value === 'remap' || value === 'private' || value === 'auto') return { kind: 'remap' };
  if (value === 'keep-id') return { kind: 'keep-id' };
  const sized = /^auto:size=(\d+)$/.exec(value);
  if (sized) {
    const size = Number(sized[1]);
    if (size < MIN_BLOCK_SIZE || size > MAX_BLOCK_SIZE) {
      throw invalidArgument('BAD_USERNS_SIZE', `invalid --userns=${value}: size must be between ${MIN_BLOCK_SIZE} and ${MAX_BLOCK_SIZE}`);
    }
    return { kind: 'remap', size };
  }
  throw invalidArgument('BAD_USERNS_MODE', `invalid USER mode: ${value} (host, remap, auto, auto:size=N, keep-id)`);
}
