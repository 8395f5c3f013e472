// Test bundles: a busybox rootfs with the static probe, and a config.json as `runc spec`
// writes it (pid, ipc, uts, mount, network namespaces; proc, dev, devpts, shm, mqueue, sysfs).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyRootfs, makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import type { Spec } from '../../src/oci/runtime-spec.js';

let template: Promise<string> | undefined;

/** A prepared rootfs shared by the tests of one process (copied per bundle). */
async function rootfsTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-rt-template-'));
    await makeBusyboxRootfs(path.join(dir, 'rootfs'));
    return path.join(dir, 'rootfs');
  })();
  return await template;
}

export async function removeTemplate(): Promise<void> {
  if (template) await rm(path.dirname(await template), { recursive: true, force: true });
  template = undefined;
}

export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(args: string[]): Spec {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, ambient: DEFAULT_CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Bundle {
  dir: string;
  spec: Spec;
  write(): Promise<void>;
  remove(): Promise<void>;
}

/** A fresh bundle under a temp dir whose name contains berth and `token`. */
export async function makeBundle(token: string, args: string[], edit?: (spec: Spec) => void): Promise<Bundle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-bundle-${token}-`));
  await copyRootfs(await rootfsTemplate(), path.join(dir, 'rootfs'));
  const spec = defaultSpec(args);
  edit?.(spec);
  const bundle: Bundle = {
    dir,
    spec,
    write: async () => { await writeFile(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2)); },
    remove: async () => { await rm(dir, { recursive: true, force: true }); },
  };
  await bundle.write();
  await mkdir(path.join(dir, 'rootfs', 'tmp'), { recursive: true });
  return bundle;
}

export function uniqueToken(): string {
  return `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** mounts whose mount point or source mentions `token` (leak check) */
export function mountsMentioning(token: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(token));
}

export function cgroupExists(relative: string): boolean {
  return ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']
    .some((root) => existsSync(path.join(root, relative)) && relative !== '');
}
