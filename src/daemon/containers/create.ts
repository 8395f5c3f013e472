// Docker's rules for a new container: the request's Config merged with the image config
// (Entrypoint/Cmd, Env, WorkingDir, User, Labels, ...), and the checks made at create time.
import { hostname } from 'node:os';
import path from 'node:path';
import { BerthError, invalidArgument } from '../../errors/berth-error.js';
import type { ContainerConfig as ImageContainerConfig } from '../../oci/image.js';
import { commandList, type ContainerConfig, type CreateRequest, type HostConfig } from './create-request.js';
import { capabilities, userMounts } from './oci-spec.js';
import { checkResources } from './resources.js';
import { checkNamespaceModes, withDefaultModes } from './namespace-modes.js';
import type { ContainerImage } from './ports.js';
import { initialState, nowRfc3339, type ContainerRecord } from './record.js';
import { checkHealthcheck, mergeHealthcheck } from './health/config.js';

export function mergeImageConfig(request: ContainerConfig, image: ImageContainerConfig, id: string): ContainerConfig {
  const merged: ContainerConfig = { ...request };
  let entrypoint = commandList(request.Entrypoint);
  let cmd = commandList(request.Cmd);
  if (entrypoint !== undefined && entrypoint.length === 1 && entrypoint[0] === '') {
    entrypoint = [];   // --entrypoint "" resets the image's entrypoint
  } else if (entrypoint === undefined || entrypoint.length === 0) {
    entrypoint = image.Entrypoint ?? undefined;
    if (cmd === undefined || cmd.length === 0) cmd = image.Cmd ?? undefined;
  }
  merged.Entrypoint = entrypoint && entrypoint.length > 0 ? entrypoint : null;
  merged.Cmd = cmd && cmd.length > 0 ? cmd : null;
  const env = mergeEnv(image.Env ?? [], request.Env ?? []);
  // dockerd answers null for an empty Env and Volumes (inspect)
  merged.Env = env.length > 0 ? env : null;
  merged.WorkingDir = request.WorkingDir || image.WorkingDir || '';
  merged.User = request.User || image.User || '';
  merged.Labels = { ...(image.Labels ?? {}), ...(request.Labels ?? {}) };
  const exposed = { ...(image.ExposedPorts ?? {}), ...(request.ExposedPorts ?? {}) };
  if (Object.keys(exposed).length > 0) merged.ExposedPorts = exposed;
  const volumes = { ...(image.Volumes ?? {}), ...(request.Volumes ?? {}) };
  merged.Volumes = Object.keys(volumes).length > 0 ? volumes : null;
  if (!request.StopSignal && image.StopSignal) merged.StopSignal = image.StopSignal;
  const healthcheck = mergeHealthcheck(request.Healthcheck, image.Healthcheck);
  if (healthcheck) merged.Healthcheck = healthcheck;
  if (request.OnBuild === undefined && image.OnBuild) merged.OnBuild = image.OnBuild;
  merged.Hostname = request.Hostname || id.slice(0, 12);
  merged.Domainname = request.Domainname ?? '';
  merged.AttachStdin = request.AttachStdin ?? false;
  merged.AttachStdout = request.AttachStdout ?? false;
  merged.AttachStderr = request.AttachStderr ?? false;
  merged.Tty = request.Tty ?? false;
  merged.OpenStdin = request.OpenStdin ?? false;
  merged.StdinOnce = request.StdinOnce ?? false;
  return merged;
}

function mergeEnv(image: readonly string[], request: readonly string[]): string[] {
  const env = new Map<string, string>();
  for (const entry of [...image, ...request]) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key === '') throw invalidArgument('BAD_ENV', `invalid environment variable: ${entry}`);
    env.set(key, entry);
  }
  return [...env.values()];
}

/** The checks dockerd makes before it creates anything. */
export function checkCreateRequest(request: CreateRequest, host: HostConfig, runtimeNames: readonly string[]): void {
  if (!request.Image) throw invalidArgument('NO_IMAGE', 'no image specified');
  const policy = host.RestartPolicy?.Name ?? '';
  if (host.AutoRemove && policy !== '' && policy !== 'no') {
    throw invalidArgument('AUTOREMOVE_CONFLICT', `can't create 'AutoRemove' container with restart policy`);
  }
  if (policy !== 'on-failure' && (host.RestartPolicy?.MaximumRetryCount ?? 0) > 0) {
    throw invalidArgument('BAD_RESTART_POLICY', `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  checkResources(host);
  const logType = host.LogConfig?.Type ?? '';
  if (!['', 'json-file', 'none'].includes(logType)) {
    throw new BerthError('invalid_argument', 'LOG_DRIVER', `logging driver "${logType}" is not supported by berth (json-file, none)`);
  }
  if (host.Runtime && !runtimeNames.includes(host.Runtime)) {
    throw invalidArgument('UNKNOWN_RUNTIME', `unknown or invalid runtime name: ${host.Runtime}`);
  }
  for (const [key] of Object.entries(host.Sysctls ?? {})) {
    if (!/^(kernel\.(msg|sem|shm)|fs\.mqueue\.|net\.)/.test(key)) {
      throw invalidArgument('BAD_SYSCTL', `sysctl '${key}' is not allowed`);
    }
  }
  checkNamespaceModes(host, request.Hostname);
  checkHealthcheck(request.Healthcheck);
  capabilities(host.Privileged === true, host.CapAdd ?? [], host.CapDrop ?? []);
  userMounts(host);
}

/** The record of a new container: the request merged with its image, docker's defaults filled in. */
export function newRecord(id: string, name: string, request: CreateRequest, host: HostConfig, image: ContainerImage,
  daemon: { defaultRuntime: string; cgroupParent: string }): ContainerRecord {
  const { HostConfig: _h, NetworkingConfig, ...configPart } = request;
  const config = mergeImageConfig(configPart, image.config, id);
  config.Image = request.Image ?? image.id;
  const args = [...(config.Entrypoint ?? []), ...(Array.isArray(config.Cmd) ? config.Cmd : [])];
  if (args.length === 0) throw invalidArgument('NO_COMMAND', 'no command specified');
  const hostConfig = { ...host, NetworkMode: !host.NetworkMode || host.NetworkMode === 'default' ? 'bridge' : host.NetworkMode, LogConfig: { Type: host.LogConfig?.Type || 'json-file', Config: host.LogConfig?.Config ?? {} },
    RestartPolicy: { Name: host.RestartPolicy?.Name || 'no', MaximumRetryCount: host.RestartPolicy?.MaximumRetryCount ?? 0 } };
  return {
    Id: id, Created: nowRfc3339(), Path: args[0] ?? '', Args: args.slice(1), Name: name, Image: image.id,
    Config: hostConfig.UTSMode === 'host' ? { ...config, Hostname: hostname() } : config, HostConfig: withDefaultModes(hostConfig), NetworkingConfig: NetworkingConfig ?? null,
    State: initialState(), RestartCount: 0, ManuallyStopped: false,
    Runtime: host.Runtime || daemon.defaultRuntime, CgroupsPath: path.posix.join(daemon.cgroupParent, id), ExecIDs: [],
  };
}
