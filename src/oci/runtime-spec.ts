// The OCI runtime spec (config.json, runtime spec 1.x) as zod schemas and the TypeScript
// types inferred from them. parseRuntimeSpec() validates foreign JSON at the boundary and
// names the offending field path. Unknown fields are ignored, as the spec requires.
import { z } from 'zod';
import { invalidArgument } from '../errors/berth-error.js';

const uint32 = z.number().int().min(0).max(0xffffffff);
const int64 = z.number().int();

export const userSchema = z.object({
  uid: uint32,
  gid: uint32,
  umask: uint32.optional(),
  additionalGids: z.array(uint32).optional(),
  username: z.string().optional(),
});
export type User = z.infer<typeof userSchema>;

export const linuxCapabilitiesSchema = z.object({
  bounding: z.array(z.string()).optional(),
  effective: z.array(z.string()).optional(),
  inheritable: z.array(z.string()).optional(),
  permitted: z.array(z.string()).optional(),
  ambient: z.array(z.string()).optional(),
});
export type LinuxCapabilities = z.infer<typeof linuxCapabilitiesSchema>;

export const rlimitSchema = z.object({
  type: z.string().regex(/^RLIMIT_[A-Z]+$/, 'must be an RLIMIT_* name'),
  hard: z.number().int().min(0),
  soft: z.number().int().min(0),
});
export type Rlimit = z.infer<typeof rlimitSchema>;

export const consoleSizeSchema = z.object({ height: uint32, width: uint32 });

export const processSchema = z.object({
  terminal: z.boolean().optional(),
  consoleSize: consoleSizeSchema.optional(),
  user: userSchema,
  args: z.array(z.string()).min(1, 'must name the program to run').optional(),
  commandLine: z.string().optional(),
  env: z.array(z.string()).optional(),
  cwd: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path'),
  capabilities: linuxCapabilitiesSchema.optional(),
  rlimits: z.array(rlimitSchema).optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
  selinuxLabel: z.string().optional(),
});
export type Process = z.infer<typeof processSchema>;

export const rootSchema = z.object({ path: z.string().min(1), readonly: z.boolean().optional() });
export type Root = z.infer<typeof rootSchema>;

export const idMappingSchema = z.object({ containerID: uint32, hostID: uint32, size: uint32 });
export type IDMapping = z.infer<typeof idMappingSchema>;

export const mountSchema = z.object({
  destination: z.string().min(1),
  source: z.string().optional(),
  type: z.string().optional(),
  options: z.array(z.string()).optional(),
  uidMappings: z.array(idMappingSchema).optional(),
  gidMappings: z.array(idMappingSchema).optional(),
});
export type Mount = z.infer<typeof mountSchema>;

export const hookSchema = z.object({
  path: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path'),
  args: z.array(z.string()).optional(),
  env: z.array(z.string()).optional(),
  timeout: z.number().int().min(1).optional(),
});
export type Hook = z.infer<typeof hookSchema>;

export const hooksSchema = z.object({
  prestart: z.array(hookSchema).optional(),
  createRuntime: z.array(hookSchema).optional(),
  createContainer: z.array(hookSchema).optional(),
  startContainer: z.array(hookSchema).optional(),
  poststart: z.array(hookSchema).optional(),
  poststop: z.array(hookSchema).optional(),
});
export type Hooks = z.infer<typeof hooksSchema>;
export type HookName = keyof Hooks;

export const namespaceTypes = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = typeof namespaceTypes[number];

export const linuxNamespaceSchema = z.object({
  type: z.enum(namespaceTypes),
  path: z.string().optional(),
});
export type LinuxNamespace = z.infer<typeof linuxNamespaceSchema>;

export const linuxDeviceSchema = z.object({
  type: z.enum(['c', 'b', 'u', 'p']),
  path: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path'),
  major: int64.optional(),
  minor: int64.optional(),
  fileMode: uint32.optional(),
  uid: uint32.optional(),
  gid: uint32.optional(),
});
export type LinuxDevice = z.infer<typeof linuxDeviceSchema>;

export const linuxDeviceCgroupSchema = z.object({
  allow: z.boolean(),
  type: z.string().optional(),
  major: int64.nullable().optional(),
  minor: int64.nullable().optional(),
  access: z.string().optional(),
});
export type LinuxDeviceCgroup = z.infer<typeof linuxDeviceCgroupSchema>;

export const linuxMemorySchema = z.object({
  limit: int64.optional(),
  reservation: int64.optional(),
  swap: int64.optional(),
  kernel: int64.optional(),
  kernelTCP: int64.optional(),
  swappiness: z.number().int().min(0).optional(),
  disableOOMKiller: z.boolean().optional(),
  useHierarchy: z.boolean().optional(),
  checkBeforeUpdate: z.boolean().optional(),
});
export type LinuxMemory = z.infer<typeof linuxMemorySchema>;

export const linuxCpuSchema = z.object({
  shares: z.number().int().min(0).optional(),
  quota: int64.optional(),
  burst: z.number().int().min(0).optional(),
  period: z.number().int().min(0).optional(),
  realtimeRuntime: int64.optional(),
  realtimePeriod: z.number().int().min(0).optional(),
  cpus: z.string().optional(),
  mems: z.string().optional(),
  idle: int64.optional(),
});
export type LinuxCpu = z.infer<typeof linuxCpuSchema>;

export const linuxPidsSchema = z.object({ limit: int64 });
export type LinuxPids = z.infer<typeof linuxPidsSchema>;

const weightDeviceSchema = z.object({
  major: int64,
  minor: int64,
  weight: z.number().int().min(0).optional(),
  leafWeight: z.number().int().min(0).optional(),
});
const throttleDeviceSchema = z.object({ major: int64, minor: int64, rate: z.number().int().min(0) });

export const linuxBlockIOSchema = z.object({
  weight: z.number().int().min(0).optional(),
  leafWeight: z.number().int().min(0).optional(),
  weightDevice: z.array(weightDeviceSchema).optional(),
  throttleReadBpsDevice: z.array(throttleDeviceSchema).optional(),
  throttleWriteBpsDevice: z.array(throttleDeviceSchema).optional(),
  throttleReadIOPSDevice: z.array(throttleDeviceSchema).optional(),
  throttleWriteIOPSDevice: z.array(throttleDeviceSchema).optional(),
});
export type LinuxBlockIO = z.infer<typeof linuxBlockIOSchema>;

export const linuxHugepageLimitSchema = z.object({ pageSize: z.string(), limit: z.number().int().min(0) });

export const linuxResourcesSchema = z.object({
  devices: z.array(linuxDeviceCgroupSchema).optional(),
  memory: linuxMemorySchema.optional(),
  cpu: linuxCpuSchema.optional(),
  pids: linuxPidsSchema.optional(),
  blockIO: linuxBlockIOSchema.optional(),
  hugepageLimits: z.array(linuxHugepageLimitSchema).optional(),
  network: z.object({
    classID: uint32.optional(),
    priorities: z.array(z.object({ name: z.string(), priority: uint32 })).optional(),
  }).optional(),
  rdma: z.record(z.object({ hcaHandles: uint32.optional(), hcaObjects: uint32.optional() })).optional(),
  unified: z.record(z.string()).optional(),
});
export type LinuxResources = z.infer<typeof linuxResourcesSchema>;

export const seccompActions = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
] as const;
export type SeccompAction = typeof seccompActions[number];

export const seccompOperators = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
export type SeccompOperator = typeof seccompOperators[number];

export const linuxSeccompArgSchema = z.object({
  index: z.number().int().min(0).max(5),
  value: z.number().int().min(0),
  valueTwo: z.number().int().min(0).optional(),
  op: z.enum(seccompOperators),
});
export type LinuxSeccompArg = z.infer<typeof linuxSeccompArgSchema>;

export const linuxSyscallSchema = z.object({
  names: z.array(z.string()).min(1),
  action: z.enum(seccompActions),
  errnoRet: uint32.optional(),
  args: z.array(linuxSeccompArgSchema).optional(),
});
export type LinuxSyscall = z.infer<typeof linuxSyscallSchema>;

export const linuxSeccompSchema = z.object({
  defaultAction: z.enum(seccompActions),
  defaultErrnoRet: uint32.optional(),
  architectures: z.array(z.string()).optional(),
  flags: z.array(z.string()).optional(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z.array(linuxSyscallSchema).optional(),
});
export type LinuxSeccomp = z.infer<typeof linuxSeccompSchema>;

export const linuxSchema = z.object({
  namespaces: z.array(linuxNamespaceSchema).optional(),
  uidMappings: z.array(idMappingSchema).optional(),
  gidMappings: z.array(idMappingSchema).optional(),
  timeOffsets: z.record(z.object({ secs: int64.optional(), nanosecs: uint32.optional() })).optional(),
  devices: z.array(linuxDeviceSchema).optional(),
  cgroupsPath: z.string().optional(),
  resources: linuxResourcesSchema.optional(),
  rootfsPropagation: z.enum(['shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable']).optional(),
  seccomp: linuxSeccompSchema.optional(),
  sysctl: z.record(z.string()).optional(),
  maskedPaths: z.array(z.string()).optional(),
  readonlyPaths: z.array(z.string()).optional(),
  mountLabel: z.string().optional(),
  personality: z.object({ domain: z.string(), flags: z.array(z.string()).optional() }).optional(),
});
export type Linux = z.infer<typeof linuxSchema>;

export const specSchema = z.object({
  ociVersion: z.string().regex(/^1\.\d+\.\d+/, 'must be a 1.x runtime spec version'),
  process: processSchema.optional(),
  root: rootSchema.optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  mounts: z.array(mountSchema).optional(),
  hooks: hooksSchema.optional(),
  annotations: z.record(z.string()).optional(),
  linux: linuxSchema.optional(),
});
export type Spec = z.infer<typeof specSchema>;

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

/** The state of a container as `runtime state` prints it (runtime.md). */
export interface State {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  /** 0 when there is no process (stopped) */
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validate a parsed config.json; `source` names the file in the error. */
export function parseRuntimeSpec(json: unknown, source = 'config.json'): Spec {
  const result = specSchema.safeParse(json);
  if (!result.success) {
    throw invalidArgument('INVALID_RUNTIME_SPEC', `invalid ${source}: ${describeIssues(result.error)}`,
      { detail: { issues: result.error.issues } });
  }
  return result.data;
}

/** Validate a process.json (as `exec -p` takes it). */
export function parseProcessSpec(json: unknown, source = 'process.json'): Process {
  const result = processSchema.safeParse(json);
  if (!result.success) {
    throw invalidArgument('INVALID_PROCESS_SPEC', `invalid ${source}: ${describeIssues(result.error)}`,
      { detail: { issues: result.error.issues } });
  }
  return result.data;
}
