// Wiring of the built-in runtime with its real collaborators (cgroup manager, seccomp
// compiler), and of the external ones. The daemon and berth-runtime both start here.
import { BuiltinRuntime } from './builtin-runtime.js';
import { detectCgroupManager } from './cgroups/manager.js';
import { ExternalRuntime } from './external-runtime.js';
import type { Runtime } from './runtime.js';
import { compileSeccomp } from './seccomp/compile.js';

export function createBuiltinRuntime(options: { root?: string } = {}): BuiltinRuntime {
  return new BuiltinRuntime({ root: options.root, cgroups: () => detectCgroupManager(), compileSeccomp: (spec) => compileSeccomp(spec) });
}

/** 'berth' (built-in) or the absolute path / name on PATH of runc or crun */
export function createRuntime(name: string, options: { root?: string } = {}): Runtime {
  if (name === 'berth') return createBuiltinRuntime(options);
  const binary = name.includes('/') ? name : `/usr/bin/${name}`;
  return new ExternalRuntime({ binary, root: options.root });
}
