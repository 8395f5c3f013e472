// What dockerd puts in every container's OCI spec (moby oci/defaults.go and
// daemon/oci_linux.go): capabilities, kernel filesystems, masked and read-only paths,
// and the device cgroup rules.
import { readFileSync } from 'node:fs';
import type { LinuxDeviceCgroup, Mount } from '../../oci/runtime-spec.js';

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
] as const;

/** every capability by number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/**
 * The capabilities this daemon can grant: those in its own bounding set (CapBnd of
 * /proc/self/status). "ALL" and --privileged mean these; asking for more would fail.
 */
export function grantableCapabilities(): string[] {
  // a process's bounding set only ever shrinks, and berthd never drops from it: read it once
  grantable ??= readGrantableCapabilities();
  return [...grantable];
}

let grantable: readonly string[] | undefined;

function readGrantableCapabilities(): string[] {
  let mask = (1n << BigInt(ALL_CAPABILITIES.length)) - 1n;
  try {
    const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line?.[1]) mask = BigInt(`0x${line[1]}`);
  } catch {
    // not Linux: keep every capability
  }
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function defaultMounts(shmSizeBytes: number, privileged: boolean): Mount[] {
  const sysOptions = privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOptions },
    // writable for --privileged, as dockerd clears its read-only flag then
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: privileged ? ['nosuid', 'noexec', 'nodev'] : ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${Math.floor(shmSizeBytes / 1024)}k`] },
  ];
}

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export function defaultDeviceRules(): LinuxDeviceCgroup[] {
  const allow = (type: 'c' | 'b', major: number | undefined, minor: number | undefined, access: string): LinuxDeviceCgroup =>
    ({ allow: true, type, ...(major === undefined ? {} : { major }), ...(minor === undefined ? {} : { minor }), access });
  return [
    { allow: false, access: 'rwm' },
    allow('c', undefined, undefined, 'm'),
    allow('b', undefined, undefined, 'm'),
    allow('c', 1, 3, 'rwm'), allow('c', 1, 8, 'rwm'), allow('c', 1, 7, 'rwm'), allow('c', 5, 0, 'rwm'),
    allow('c', 1, 5, 'rwm'), allow('c', 1, 9, 'rwm'), allow('c', 136, undefined, 'rwm'), allow('c', 5, 2, 'rwm'),
    allow('c', 10, 200, 'rwm'), allow('c', 5, 1, 'rwm'),
  ];
}

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
