// `--security-opt seccomp=<profile>`: the docker CLI sends the profile file's JSON. Both
// Docker's format (names/name, archMap, includes/excludes by capability) and an OCI
// LinuxSeccomp are accepted and turned into the OCI form.
import { z } from 'zod';
import { invalidArgument } from '../../errors/berth-error.js';
import { linuxSeccompSchema, seccompActions, seccompOperators, type LinuxSeccomp, type LinuxSyscall } from '../../oci/runtime-spec.js';

const argSchema = z.object({ index: z.number().int().min(0).max(5), value: z.number().int().min(0),
  valueTwo: z.number().int().min(0).optional(), op: z.enum(seccompOperators) });
const filterSchema = z.object({ caps: z.array(z.string()).optional(), arches: z.array(z.string()).optional() }).passthrough();
const dockerProfileSchema = z.object({
  defaultAction: z.enum(seccompActions),
  defaultErrnoRet: z.number().int().min(0).optional(),
  architectures: z.array(z.string()).optional(),
  archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullable().optional() })).nullable().optional(),
  syscalls: z.array(z.object({
    names: z.array(z.string()).optional(),
    name: z.string().optional(),
    action: z.enum(seccompActions),
    errnoRet: z.number().int().min(0).optional(),
    args: z.array(argSchema).nullable().optional(),
    includes: filterSchema.optional(),
    excludes: filterSchema.optional(),
  }).passthrough()).nullable().optional(),
}).passthrough();

const NODE_TO_SCMP: Record<string, string> = { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', s390x: 'SCMP_ARCH_S390X' };

export function convertSeccompProfile(json: string, capabilities: readonly string[]): LinuxSeccomp {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw invalidArgument('BAD_SECCOMP_PROFILE', 'decoding seccomp profile failed: not json', { cause });
  }
  const parsed = dockerProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const oci = linuxSeccompSchema.safeParse(raw);
    if (oci.success) return oci.data;
    throw invalidArgument('BAD_SECCOMP_PROFILE', `invalid seccomp profile: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  }
  const profile = parsed.data;
  const hostArch = NODE_TO_SCMP[process.arch];
  const arches = profile.architectures ?? (profile.archMap ?? [])
    .filter((a) => a.architecture === hostArch)
    .flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  const caps = new Set(capabilities);
  const syscalls: LinuxSyscall[] = [];
  for (const call of profile.syscalls ?? []) {
    if (call.includes?.caps && !call.includes.caps.every((c) => caps.has(c))) continue;
    if (call.excludes?.caps?.some((c) => caps.has(c))) continue;
    const names = call.names ?? (call.name ? [call.name] : []);
    if (names.length === 0) continue;
    syscalls.push({ names, action: call.action, ...(call.errnoRet === undefined ? {} : { errnoRet: call.errnoRet }),
      ...(call.args && call.args.length > 0 ? { args: call.args } : {}) });
  }
  return { defaultAction: profile.defaultAction, ...(profile.defaultErrnoRet === undefined ? {} : { defaultErrnoRet: profile.defaultErrnoRet }),
    ...(arches.length > 0 ? { architectures: arches } : {}), syscalls };
}
