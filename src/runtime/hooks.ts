// OCI hooks: each gets the container state as JSON on stdin; a failing hook is an error
// naming the hook (prestart/createRuntime/createContainer/startContainer abort the
// operation, poststart/poststop only warn, as the spec says).
import { BerthError } from '../errors/berth-error.js';
import type { Hook, HookName, Hooks, State } from '../oci/runtime-spec.js';
import { runProgram } from '../sys/exec.js';

export async function runHooks(hooks: Hooks | undefined, name: HookName, state: State): Promise<void> {
  const list = hooks?.[name] ?? [];
  for (let i = 0; i < list.length; i++) await runHook(list[i] as Hook, `hooks.${name}[${i}]`, state);
}

async function runHook(hook: Hook, field: string, state: State): Promise<void> {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of hook.env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  const result = await runProgram(hook.path, args, {
    input: JSON.stringify(state), env, allowFailure: true, argv0, timeoutMs: hook.timeout ? hook.timeout * 1000 : undefined,
  });
  if (result.code !== 0) {
    throw new BerthError('internal', 'HOOK_FAILED', `${field} ${hook.path} exited with ${result.code}: ${result.stderr.trim()}`);
  }
}
