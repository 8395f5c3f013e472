// What every verb of berth-runtime gets: the runtime for the global --root, the caller's
// cwd, environment and stdio, and output. Two callers: the plain command (this process's
// own, plain-io.ts) and the resident server (a client's, server.ts).
import path from 'node:path';
import type { BuiltinRuntime } from '../runtime/builtin-runtime.js';
import type { InheritedAttributes, ProcessHandle, StdioFds } from '../runtime/runtime.js';

export interface GlobalOptions {
  root?: string;
}

/** The caller a command runs for. */
export interface CallerIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** the container's stdio: this process's own fds 0-2, or the caller's */
  stdio: 'inherit' | StdioFds;
  /** the caller's umask and rlimits for its containers (the server's caller); the plain command's own are inherited anyway */
  inherit?: InheritedAttributes;
  out(text: string): void;
  err(text: string): void;
  /** Wait for a foreground process (run, exec without -d): relay its terminal, forward the
   * caller's signals to it; resolves with its exit code. */
  foreground(handle: ProcessHandle): Promise<number>;
}

export interface CliContext {
  readonly io: CallerIo;
  runtime(): BuiltinRuntime;
  /** a path of the command line, relative to the caller's cwd */
  resolve(file: string): string;
  out(text: string): void;
  /** a warning for the caller's stderr (a failing poststop hook) */
  warn(message: string): void;
  /** the process exit code once the verb returns */
  exitCode: number;
}

export function makeContext(io: CallerIo, globals: () => GlobalOptions, runtimeFor: (root: string) => BuiltinRuntime): CliContext {
  let runtime: BuiltinRuntime | undefined;
  const resolve = (file: string): string => path.resolve(io.cwd, file);
  return {
    io,
    runtime: () => (runtime ??= runtimeFor(resolve(globals().root ?? ''))),
    resolve,
    out: (text) => { io.out(text.endsWith('\n') ? text : `${text}\n`); },
    warn: (message) => { io.err(`berth-runtime: warning: ${message}\n`); },
    exitCode: 0,
  };
}
