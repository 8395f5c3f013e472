// OCI hooks: each gets the container state as JSON on stdin; a failing hook is an error
// naming the hook. As runtime.md's lifecycle says: prestart, createRuntime, createContainer,
// startContainer and poststart failures abort the operation (after poststart the container
// is stopped first); a failing poststop hook is only a warning and the later ones still run.
// Where they run (config.md): prestart, createRuntime, poststart and poststop in the
// runtime's namespaces; createContainer and startContainer in the container's, entered
// with nsenter. createContainer runs before pivot_root, so its path resolves as on the host;
// startContainer runs after it, so its path resolves inside the container.
import { BerthError } from '../errors/berth-error.js';
import type { Hook, HookName, Hooks, NamespaceType, State } from '../oci/runtime-spec.js';
import { runProgram } from '../sys/exec.js';

/** The container whose namespaces a hook enters: its init pid and the namespaces it has. */
export interface HookTarget {
  pid: number;
  namespaces: readonly NamespaceType[];
}

const NSENTER_FLAGS: Record<NamespaceType, string> = {
  mount: '--mount', uts: '--uts', ipc: '--ipc', network: '--net', pid: '--pid', cgroup: '--cgroup', user: '--user', time: '--time',
};

/** the hooks that run while the container waits before pivot_root (HOOK_WAIT) */
export function hasCreateHooks(hooks: Hooks | undefined): boolean {
  return (['prestart', 'createRuntime', 'createContainer'] as const).some((name) => (hooks?.[name]?.length ?? 0) > 0);
}

export async function runHooks(hooks: Hooks | undefined, name: HookName, state: State, inContainer?: HookTarget): Promise<void> {
  const list = hooks?.[name] ?? [];
  for (let i = 0; i < list.length; i++) await runHook(list[i] as Hook, `hooks.${name}[${i}]`, state, inContainer);
}

/** Every hook of the list runs; each failure is passed to `warn` (the poststop rule). */
export async function runHooksWarning(hooks: Hooks | undefined, name: HookName, state: State, warn: (message: string) => void): Promise<void> {
  const list = hooks?.[name] ?? [];
  for (let i = 0; i < list.length; i++) {
    await runHook(list[i] as Hook, `hooks.${name}[${i}]`, state, undefined).catch((err: unknown) => {
      warn(`container ${state.id}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

async function runHook(hook: Hook, field: string, state: State, inContainer: HookTarget | undefined): Promise<void> {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of hook.env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  const options = { input: JSON.stringify(state), env, allowFailure: true, timeoutMs: hook.timeout ? hook.timeout * 1000 : undefined };
  // nsenter execs the path itself: argv[0] of a hook in the container is its path, not args[0]
  const result = inContainer
    ? await runProgram('nsenter', [...nsenterArgs(inContainer), '--', hook.path, ...args], options)
    : await runProgram(hook.path, args, { ...options, argv0 });
  if (result.code !== 0) {
    throw new BerthError('internal', 'HOOK_FAILED', `${field} ${hook.path} exited with ${result.code}: ${result.stderr.trim()}`);
  }
}

/** each namespace by its /proc file; entering the mount namespace sets root and cwd to its root */
function nsenterArgs(target: HookTarget): string[] {
  return target.namespaces.map((type) => `${NSENTER_FLAGS[type]}=/proc/${target.pid}/ns/${NS_FILES[type]}`);
}

const NS_FILES: Record<NamespaceType, string> = {
  mount: 'mnt', uts: 'uts', ipc: 'ipc', network: 'net', pid: 'pid', cgroup: 'cgroup', user: 'user', time: 'time',
};
