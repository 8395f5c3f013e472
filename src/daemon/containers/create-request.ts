// The body of POST /containers/create (Config + HostConfig + NetworkingConfig) and of
// POST /containers/{id}/update, validated where they enter. Unknown fields are kept (the
// API has an open schema) and shown back by inspect; fields berth reads are typed.
import { z } from 'zod';

const str = z.string();
const nullableStringList = z.array(z.string()).nullable().optional();
const stringMap = z.record(z.string(), z.string()).nullable().optional();
const emptyObjectMap = z.record(z.string(), z.object({}).passthrough()).nullable().optional();
const int = z.number().int();

export const healthConfigSchema = z.object({
  Test: nullableStringList,
  Interval: int.optional(),
  Timeout: int.optional(),
  StartPeriod: int.optional(),
  StartInterval: int.optional(),
  Retries: int.optional(),
}).passthrough();

/** Container Config: what the image config also has, plus per-container switches. */
export const containerConfigSchema = z.object({
  Hostname: str.optional(),
  Domainname: str.optional(),
  User: str.optional(),
  AttachStdin: z.boolean().optional(),
  AttachStdout: z.boolean().optional(),
  AttachStderr: z.boolean().optional(),
  ExposedPorts: emptyObjectMap,
  Tty: z.boolean().optional(),
  OpenStdin: z.boolean().optional(),
  StdinOnce: z.boolean().optional(),
  Env: nullableStringList,
  Cmd: z.union([z.array(z.string()), z.string()]).nullable().optional(),
  Healthcheck: healthConfigSchema.nullable().optional(),
  ArgsEscaped: z.boolean().nullable().optional(),
  Image: str.optional(),
  Volumes: emptyObjectMap,
  WorkingDir: str.optional(),
  Entrypoint: z.union([z.array(z.string()), z.string()]).nullable().optional(),
  NetworkDisabled: z.boolean().nullable().optional(),
  MacAddress: str.optional(),
  OnBuild: nullableStringList,
  Labels: stringMap,
  StopSignal: str.nullable().optional(),
  StopTimeout: int.nullable().optional(),
  Shell: nullableStringList,
}).passthrough();
export type ContainerConfig = z.infer<typeof containerConfigSchema>;

const ulimitSchema = z.object({ Name: str, Soft: int, Hard: int });
const weightDeviceSchema = z.object({ Path: str, Weight: int }).passthrough();
const throttleDeviceSchema = z.object({ Path: str, Rate: int }).passthrough();
const deviceMappingSchema = z.object({ PathOnHost: str, PathInContainer: str.optional(), CgroupPermissions: str.optional() });

/** HostConfig.Resources, also the body of `update`. */
export const resourcesSchema = z.object({
  CpuShares: int.optional(),
  Memory: int.min(0).optional(),
  CgroupParent: str.optional(),
  BlkioWeight: int.min(0).max(1000).optional(),
  BlkioWeightDevice: z.array(weightDeviceSchema).nullable().optional(),
  BlkioDeviceReadBps: z.array(throttleDeviceSchema).nullable().optional(),
  BlkioDeviceWriteBps: z.array(throttleDeviceSchema).nullable().optional(),
  BlkioDeviceReadIOps: z.array(throttleDeviceSchema).nullable().optional(),
  BlkioDeviceWriteIOps: z.array(throttleDeviceSchema).nullable().optional(),
  CpuPeriod: int.min(0).optional(),
  CpuQuota: int.optional(),
  CpuRealtimePeriod: int.optional(),
  CpuRealtimeRuntime: int.optional(),
  CpusetCpus: str.optional(),
  CpusetMems: str.optional(),
  Devices: z.array(deviceMappingSchema).nullable().optional(),
  DeviceCgroupRules: nullableStringList,
  DeviceRequests: z.array(z.object({}).passthrough()).nullable().optional(),
  KernelMemoryTCP: int.optional(),
  MemoryReservation: int.min(0).optional(),
  MemorySwap: int.optional(),
  MemorySwappiness: int.min(-1).max(100).nullable().optional(),
  NanoCpus: int.min(0).optional(),
  OomKillDisable: z.boolean().nullable().optional(),
  Init: z.boolean().nullable().optional(),
  PidsLimit: int.nullable().optional(),
  Ulimits: z.array(ulimitSchema).nullable().optional(),
  CpuCount: int.optional(),
  CpuPercent: int.optional(),
  IOMaximumIOps: int.optional(),
  IOMaximumBandwidth: int.optional(),
}).passthrough();
export type Resources = z.infer<typeof resourcesSchema>;

export const restartPolicySchema = z.object({
  Name: z.enum(['', 'no', 'always', 'unless-stopped', 'on-failure']).optional(),
  MaximumRetryCount: int.min(0).optional(),
});
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

const mountSchema = z.object({
  Target: str,
  Source: str.optional(),
  Type: z.enum(['bind', 'volume', 'tmpfs', 'image', 'npipe', 'cluster']),
  ReadOnly: z.boolean().optional(),
  Consistency: str.optional(),
  BindOptions: z.object({ Propagation: str.optional(), NonRecursive: z.boolean().optional(),
    CreateMountpoint: z.boolean().optional() }).passthrough().nullable().optional(),
  VolumeOptions: z.object({}).passthrough().nullable().optional(),
  TmpfsOptions: z.object({ SizeBytes: int.optional(), Mode: int.optional(),
    Options: z.array(z.array(str)).nullable().optional() }).passthrough().nullable().optional(),
}).passthrough();
export type MountRequest = z.infer<typeof mountSchema>;

export const hostConfigSchema = resourcesSchema.extend({
  Binds: nullableStringList,
  ContainerIDFile: str.optional(),
  LogConfig: z.object({ Type: str.optional(), Config: stringMap }).nullable().optional(),
  NetworkMode: str.optional(),
  PortBindings: z.record(z.string(), z.array(z.object({ HostIp: str.optional(), HostPort: str.optional() })).nullable()).nullable().optional(),
  RestartPolicy: restartPolicySchema.nullable().optional(),
  AutoRemove: z.boolean().optional(),
  VolumeDriver: str.optional(),
  VolumesFrom: nullableStringList,
  Mounts: z.array(mountSchema).nullable().optional(),
  ConsoleSize: z.array(int.min(0)).length(2).nullable().optional(),
  Annotations: stringMap,
  CapAdd: nullableStringList,
  CapDrop: nullableStringList,
  CgroupnsMode: z.enum(['', 'private', 'host']).optional(),
  Dns: nullableStringList,
  DnsOptions: nullableStringList,
  DnsSearch: nullableStringList,
  ExtraHosts: nullableStringList,
  GroupAdd: nullableStringList,
  IpcMode: str.optional(),
  Cgroup: str.optional(),
  Links: nullableStringList,
  OomScoreAdj: int.min(-1000).max(1000).optional(),
  PidMode: str.optional(),
  Privileged: z.boolean().optional(),
  PublishAllPorts: z.boolean().optional(),
  ReadonlyRootfs: z.boolean().optional(),
  SecurityOpt: nullableStringList,
  StorageOpt: stringMap,
  Tmpfs: stringMap,
  UTSMode: str.optional(),
  UsernsMode: str.optional(),
  ShmSize: int.min(0).optional(),
  Sysctls: stringMap,
  Runtime: str.optional(),
  Isolation: str.optional(),
  MaskedPaths: nullableStringList,
  ReadonlyPaths: nullableStringList,
  /** berth's own (podman's --health-on-failure): what to do when the container turns unhealthy */
  HealthOnFailure: z.enum(['', 'none', 'restart', 'stop', 'kill']).optional(),
}).passthrough();
export type HostConfig = z.infer<typeof hostConfigSchema>;

export const networkingConfigSchema = z.object({
  EndpointsConfig: z.record(z.string(), z.object({}).passthrough().nullable()).nullable().optional(),
}).passthrough();

export const createRequestSchema = containerConfigSchema.extend({
  HostConfig: hostConfigSchema.nullable().optional(),
  NetworkingConfig: networkingConfigSchema.nullable().optional(),
}).passthrough();
export type CreateRequest = z.infer<typeof createRequestSchema>;

export const updateRequestSchema = resourcesSchema.extend({
  RestartPolicy: restartPolicySchema.nullable().optional(),
}).passthrough();
export type UpdateRequest = z.infer<typeof updateRequestSchema>;

/** Docker accepts a string where a command list is expected (shell-less split is not done). */
export function commandList(value: string[] | string | null | undefined): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}
