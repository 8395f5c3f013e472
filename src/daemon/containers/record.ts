// What berthd keeps about one container, persisted atomically as
// <data-root>/containers/<id>/config.v2.json (dockerd's file name) and validated on load.
import { z } from 'zod';
import { containerConfigSchema, hostConfigSchema, networkingConfigSchema } from './create-request.js';
import { healthSchema } from './health/state.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export const stateSchema = z.object({
  Status: z.enum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']),
  Running: z.boolean(),
  Paused: z.boolean(),
  Restarting: z.boolean(),
  OOMKilled: z.boolean(),
  Dead: z.boolean(),
  Pid: z.number().int(),
  ExitCode: z.number().int(),
  Error: z.string(),
  StartedAt: z.string(),
  FinishedAt: z.string(),
  /** only for containers with a health check */
  Health: healthSchema.optional(),
});
export type ContainerState = z.infer<typeof stateSchema>;

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const recordSchema = z.object({
  Id: z.string().regex(/^[0-9a-f]{64}$/),
  Created: z.string(),
  Path: z.string(),
  Args: z.array(z.string()),
  Name: z.string(),
  /** the image id (sha256:...) */
  Image: z.string(),
  Config: containerConfigSchema,
  HostConfig: hostConfigSchema,
  NetworkingConfig: networkingConfigSchema.nullable().optional(),
  State: stateSchema,
  RestartCount: z.number().int(),
  /** set by an explicit stop; `unless-stopped` then keeps it down across daemon restarts */
  ManuallyStopped: z.boolean(),
  /** the OCI runtime that runs it (berth, runc, crun) */
  Runtime: z.string(),
  /** the cgroup path the spec names, for stats and sweeping */
  CgroupsPath: z.string(),
  ExecIDs: z.array(z.string()),
}).passthrough();
export type ContainerRecord = z.infer<typeof recordSchema>;

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

export function runningState(previous: ContainerState, pid: number): ContainerState {
  return { ...previous, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: pid, ExitCode: 0, Error: '', StartedAt: nowRfc3339() };
}

export function exitedState(previous: ContainerState, exitCode: number, error = '', oomKilled = false): ContainerState {
  return { ...previous, Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: oomKilled, Pid: 0,
    ExitCode: exitCode, Error: error, FinishedAt: nowRfc3339() };
}

/** RFC 3339 with nanoseconds, as Go prints time.Time */
export function nowRfc3339(): string {
  const now = new Date();
  const nanos = String(now.getUTCMilliseconds()).padStart(3, '0') + String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return now.toISOString().replace(/\.\d{3}Z$/, `.${nanos}Z`);
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
