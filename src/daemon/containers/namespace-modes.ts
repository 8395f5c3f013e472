// docker's namespace sharing modes (--pid, --ipc, --uts, --cgroupns): checked at create,
// resolved to namespace paths at start, turned into the OCI namespace list and /dev/shm.
import { conflict, invalidArgument, notFound } from '../../errors/berth-error.js';
import type { LinuxNamespace, Mount } from '../../oci/runtime-spec.js';
import type { HostConfig } from './create-request.js';

export type PidMode = { kind: 'private' } | { kind: 'host' } | { kind: 'container'; target: string };
export type IpcMode = { kind: 'private' | 'shareable' | 'host' | 'none' } | { kind: 'container'; target: string };
export type UtsMode = { kind: 'private' | 'host' };

const CONTAINER_PREFIX = 'container:';

function containerTarget(flag: string, value: string): string {
  const target = value.slice(CONTAINER_PREFIX.length);
  if (target === '') throw invalidArgument('BAD_NAMESPACE_MODE', `invalid ${flag} mode: ${value}: no container named after "container:"`);
  return target;
}

export function parsePidMode(value: string | undefined): PidMode {
  if (!value) return { kind: 'private' };
  if (value === 'host') return { kind: 'host' };
  if (value.startsWith(CONTAINER_PREFIX)) return { kind: 'container', target: containerTarget('--pid', value) };
  throw invalidArgument('BAD_NAMESPACE_MODE', `invalid PID mode: ${value} (host, container:<name|id>)`);
}

export function parseIpcMode(value: string | undefined): IpcMode {
  if (!value || value === 'private') return { kind: 'private' };
  if (value === 'shareable' || value === 'host' || value === 'none') return { kind: value };
  if (value.startsWith(CONTAINER_PREFIX)) return { kind: 'container', target: containerTarget('--ipc', value) };
  throw invalidArgument('BAD_NAMESPACE_MODE', `invalid IPC mode: ${value} (private, shareable, host, none, container:<name|id>)`);
}

export function parseUtsMode(value: string | undefined): UtsMode {
  if (!value || value === 'private') return { kind: 'private' };
  if (value === 'host') return { kind: 'host' };
  throw invalidArgument('BAD_NAMESPACE_MODE', `invalid UTS mode: ${value} (host)`);
}

/** The create-time checks dockerd makes: syntax, and options that contradict a mode. */
export function checkNamespaceModes(host: HostConfig, hostname: string | undefined): void {
  parsePidMode(host.PidMode);
  parseIpcMode(host.IpcMode);
  const uts = parseUtsMode(host.UTSMode);
  checkUsernsMode(host.UsernsMode);
  if (uts.kind === 'host' && hostname) {
    throw conflict('HOSTNAME_WITH_UTS_HOST', 'conflicting options: hostname and the UTS mode (--uts=host)');
  }
}

/** --userns syntax (the user namespace service allocates the ids at create). */
export function checkUsernsMode(value: string | undefined): void {
  if (!value || /^(host|remap|private|auto|keep-id|auto:size=\d+)$/.test(value)) return;
  throw invalidArgument('BAD_USERNS_MODE', `invalid USER mode: ${value} (host, remap, auto, auto:size=N, keep-id)`);
}

/** docker's inspect defaults: IpcMode "private", CgroupnsMode "host" (berth's cgroups are v1). */
export function withDefaultModes<H extends HostConfig>(host: H): H {
  return {
    ...host,
    PidMode: host.PidMode ?? '',
    IpcMode: host.IpcMode || 'private',
    UTSMode: host.UTSMode ?? '',
    CgroupnsMode: host.CgroupnsMode || 'host',
  };
}

/** The containers this one's modes name, e.g. to refuse a create that names one gone. */
export function namespaceDonors(host: HostConfig): Array<{ flag: string; target: string }> {
  const donors: Array<{ flag: string; target: string }> = [];
  const pid = parsePidMode(host.PidMode);
  const ipc = parseIpcMode(host.IpcMode);
  if (pid.kind === 'container') donors.push({ flag: 'PID', target: pid.target });
  if (ipc.kind === 'container') donors.push({ flag: 'IPC', target: ipc.target });
  return donors;
}

/** What a donor container must tell: its id, whether it runs (its init pid) and its IPC mode. */
export interface DonorInfo { id: string; pid: number | undefined; ipcMode: string | undefined; shmPath: string }

/** Namespaces to join, by path; null means the host's own (no namespace of that type). */
export interface SharedNamespaces {
  pid?: string | null;
  ipc?: string | null;
  uts?: null;
  /** host path bound over /dev/shm: the host's or the donor container's; absent: a new tmpfs */
  shmSource?: string;
  /** --ipc none: no /dev/shm at all */
  noShm?: boolean;
}

/** Resolves container:X and host modes at start; a donor that is gone or stopped is a clear error. */
export function resolveSharedNamespaces(host: HostConfig, lookup: (target: string) => DonorInfo | undefined): SharedNamespaces {
  const shared: SharedNamespaces = {};
  const donor = (flag: string, target: string): DonorInfo & { pid: number } => {
    const info = lookup(target);
    if (!info) throw notFound('NO_SUCH_CONTAINER', `cannot join the ${flag} namespace of container ${target}: No such container: ${target}`);
    if (info.pid === undefined || info.pid <= 0) {
      throw conflict('DONOR_NOT_RUNNING', `cannot join ${flag} of a non running container: ${target}`);
    }
    return { ...info, pid: info.pid };
  };
  const pid = parsePidMode(host.PidMode);
  if (pid.kind === 'host') shared.pid = null;
  else if (pid.kind === 'container') shared.pid = `/proc/${donor('PID', pid.target).pid}/ns/pid`;
  const ipc = parseIpcMode(host.IpcMode);
  if (ipc.kind === 'host') {
    shared.ipc = null;
    shared.shmSource = '/dev/shm';
  } else if (ipc.kind === 'container') {
    const info = donor('IPC', ipc.target);
    if (info.ipcMode !== 'shareable') {
      throw conflict('IPC_NOT_SHAREABLE', `cannot join IPC of container ${ipc.target}: its IPC namespace is not shareable (hint: create it with --ipc=shareable)`);
    }
    shared.ipc = `/proc/${info.pid}/ns/ipc`;
    shared.shmSource = info.shmPath;
  } else if (ipc.kind === 'none') {
    shared.noShm = true;
  }
  if (parseUtsMode(host.UTSMode).kind === 'host') shared.uts = null;
  return shared;
}

/** The OCI namespace list for the modes (network resolved by the networks service). */
export function namespaceList(host: HostConfig, shared: SharedNamespaces, netnsPath: string | null | undefined): LinuxNamespace[] {
  const list: LinuxNamespace[] = [{ type: 'mount' }];
  const add = (type: LinuxNamespace['type'], joined: string | null | undefined): void => {
    if (joined === undefined) list.push({ type });
    else if (joined !== null) list.push({ type, path: joined });
  };
  add('uts', shared.uts);
  add('pid', shared.pid);
  add('ipc', shared.ipc);
  add('network', netnsPath);
  if (host.CgroupnsMode === 'private') list.push({ type: 'cgroup' });
  return list;
}

/** Replaces the default /dev/shm tmpfs for --ipc host|container:X|none. */
export function applyShmMode(mounts: Mount[], shared: SharedNamespaces): Mount[] {
  if (shared.noShm) return mounts.filter((m) => m.destination !== '/dev/shm');
  const source = shared.shmSource;
  if (source === undefined) return mounts;
  return mounts.map((m) => (m.destination === '/dev/shm'
    ? { destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] } : m));
}
