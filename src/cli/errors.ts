// How the CLI fails: a usage error (exit 1 or 125 as docker uses them) or a status exit.
import { BerthError } from '../errors/berth-error.js';

export class UsageError extends Error {
  constructor(message: string, readonly exitCode: number, readonly showUsage = true) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Ends the command with this exit status and prints nothing more. */
export class StatusExit extends Error {
  constructor(readonly exitCode: number, message = '') {
    super(message);
    this.name = 'StatusExit';
  }
}

export function isDaemonError(err: unknown): err is BerthError {
  return err instanceof BerthError && err.detail?.fromDaemon === true;
}

/** docker's words for one failed item: "Error response from daemon: No such container: x" */
export function describeError(err: unknown): string {
  if (isDaemonError(err)) return `Error response from daemon: ${err.message}`;
  if (err instanceof BerthError) return err.hint === undefined ? err.message : `${err.message}\n${err.hint}`;
  return err instanceof Error ? err.message : String(err);
}

/** Exit status for run/create/start failures: 127 not found, 126 cannot execute, 125 else. */
export function runFailureCode(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(message)) return 127;
  if (/permission denied|cannot execute|exec format error|is a directory/i.test(message)) return 126;
  return 125;
}
