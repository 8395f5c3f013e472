// What every verb of berth-runtime gets: the runtime for the global --root, and output.
import { createBuiltinRuntime } from '../runtime/factory.js';
import type { BuiltinRuntime } from '../runtime/builtin-runtime.js';

export interface GlobalOptions {
  root?: string;
}

export interface CliContext {
  runtime(): BuiltinRuntime;
  out(text: string): void;
  /** the process exit code once the verb returns */
  exitCode: number;
}

export function makeContext(globals: () => GlobalOptions): CliContext {
  let runtime: BuiltinRuntime | undefined;
  return {
    runtime: () => (runtime ??= createBuiltinRuntime({ root: globals().root })),
    out: (text) => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`); },
    exitCode: 0,
  };
}
