// Kernel constants the spec-to-plan conversion needs: capability numbers, clone flags,
// mount flags and options, rlimit resources, signal numbers.
import { constants } from 'node:os';
import type { NamespaceType } from '../oci/runtime-spec.js';

export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export const CLONE_FLAGS: Record<NamespaceType, number> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

/** /proc/<pid>/ns/<name> for each namespace type */
export const NS_PROC_NAMES: Record<NamespaceType, string> = {
  mount: 'mnt', uts: 'uts', ipc: 'ipc', user: 'user', pid: 'pid', network: 'net', cgroup: 'cgroup', time: 'time',
};

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768,
  UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** mount option -> [flag, clear?]; options not listed here are passed to the filesystem as data */
export const MOUNT_FLAG_OPTIONS: Record<string, [number, boolean]> = {
  ro: [MS.RDONLY, false], rw: [MS.RDONLY, true],
  nosuid: [MS.NOSUID, false], suid: [MS.NOSUID, true],
  nodev: [MS.NODEV, false], dev: [MS.NODEV, true],
  noexec: [MS.NOEXEC, false], exec: [MS.NOEXEC, true],
  sync: [MS.SYNCHRONOUS, false], async: [MS.SYNCHRONOUS, true],
  dirsync: [MS.DIRSYNC, false], remount: [MS.REMOUNT, false],
  mand: [MS.MANDLOCK, false], nomand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, false], atime: [MS.NOATIME, true],
  nodiratime: [MS.NODIRATIME, false], diratime: [MS.NODIRATIME, true],
  relatime: [MS.RELATIME, false], norelatime: [MS.RELATIME, true],
  strictatime: [MS.STRICTATIME, false], nostrictatime: [MS.STRICTATIME, true],
  lazytime: [MS.LAZYTIME, false], nolazytime: [MS.LAZYTIME, true],
  nosymfollow: [MS.NOSYMFOLLOW, false], symfollow: [MS.NOSYMFOLLOW, true],
  bind: [MS.BIND, false], rbind: [MS.BIND | MS.REC, false],
  defaults: [0, false],
};

export const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** 'SIGTERM', 'TERM', 'term' or '15' -> 15; undefined when unknown */
export function signalNumber(signal: string | number): number | undefined {
  if (typeof signal === 'number') return Number.isInteger(signal) && signal > 0 && signal < 65 ? signal : undefined;
  if (/^\d+$/.test(signal)) return signalNumber(Number(signal));
  const upper = signal.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const table = constants.signals as Record<string, number | undefined>;
  return table[name];
}

export function signalName(signal: number): NodeJS.Signals | null {
  const table = constants.signals as Record<string, number>;
  const found = Object.entries(table).find(([, value]) => value === signal);
  return found ? (found[0] as NodeJS.Signals) : null;
}
