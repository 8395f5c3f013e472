// Wiring of the built-in runtime with its real collaborators (cgroup manager, seccomp
// compiler), and of the external ones. The daemon and berth-runtime both start here.
import { BuiltinRuntime } from './builtin-runtime.js';
import { detectCgroupManager, type CgroupManager } from './cgroups/manager.js';
import { ExternalRuntime } from './external-runtime.js';
import type { Runtime } from './runtime.js';
import { compileSeccomp } from './seccomp/compile.js';
import { ARCHES, syscallNumber, type SupportedArch } from './seccomp/arch.js';
import { invalidArgument } from '../errors/berth-error.js';
import { FOREIGN_SYSCALL_NAMES } from './foreign-syscalls.js';
import type { LinuxSeccomp } from '../oci/runtime-spec.js';

/**
 * The compiler skips names the host architecture lacks (profiles list syscalls of every
 * architecture); a name no architecture knows is a typo and an error naming the field.
 */
export function compileSeccompStrict(spec: LinuxSeccomp): Buffer {
  const arches = Object.keys(ARCHES) as SupportedArch[];
  (spec.syscalls ?? []).forEach((rule, i) => rule.names.forEach((name, j) => {
    if (!FOREIGN_SYSCALL_NAMES.has(name) && !arches.some((arch) => syscallNumber(arch, name) !== undefined)) {
      throw invalidArgument('UNKNOWN_SYSCALL', `linux.seccomp.syscalls[${i}].names[${j}]: unknown syscall ${JSON.stringify(name)}`);
    }
  }));
  return compileSeccomp(spec);
}

export interface RuntimeOptions {
  root?: string;
  /** the built-in runtime's cgroup manager (rootless berthd may have none); detected when left out */
  cgroups?: CgroupManager;
  /** spawn the helper from one sealed in-memory copy (a long-lived caller: berthd) */
  sealedHelper?: boolean;
  /** warm helpers kept ready (default: 1 with sealedHelper, else 0) */
  warmHelpers?: number;
}

export function createBuiltinRuntime(options: RuntimeOptions = {}): BuiltinRuntime {
  const cgroups = options.cgroups;
  return new BuiltinRuntime({
    root: options.root, cgroups: cgroups ?? (() => detectCgroupManager()), compileSeccomp: compileSeccompStrict, sealedHelper: options.sealedHelper,
    warmHelpers: options.warmHelpers,
  });
}

/** 'berth' (built-in) or the absolute path / name on PATH of runc or crun */
export function createRuntime(name: string, options: RuntimeOptions = {}): Runtime {
  if (name === 'berth') return createBuiltinRuntime(options);
  const binary = name.includes('/') ? name : `/usr/bin/${name}`;
  return new ExternalRuntime({ binary, root: options.root });
}
