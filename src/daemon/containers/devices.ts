// HostConfig.Devices (--device), DeviceCgroupRules (--device-cgroup-rule) and --privileged's
// host devices, as dockerd turns them into linux.devices and device cgroup rules.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import type { LinuxDevice, LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import { deviceNumbers } from '../../util/device-number.js';

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer?: string | undefined;
  CgroupPermissions?: string | undefined;
}

export interface ContainerDevices {
  devices: LinuxDevice[];
  rules: LinuxDeviceCgroup[];
}

/** what runc's HostDevices leaves out of a privileged container's /dev */
const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** The device node at `hostPath` (a symlink followed), or undefined when it is not one. */
async function deviceAt(hostPath: string, containerPath: string): Promise<LinuxDevice | undefined> {
  const info = await stat(hostPath, { bigint: true });
  const type = info.isCharacterDevice() ? 'c' : info.isBlockDevice() ? 'b' : undefined;
  if (type === undefined) return undefined;
  return { type, path: containerPath, ...deviceNumbers(info.rdev), fileMode: Number(info.mode & 0o777n), uid: Number(info.uid), gid: Number(info.gid) };
}

function checkPermissions(value: string, what: string): string {
  if (!/^[rwm]{1,3}$/.test(value) || new Set(value).size !== value.length) {
    throw invalidArgument('BAD_DEVICE_PERMISSIONS', `invalid device cgroup permissions ${JSON.stringify(value)} for ${what}: only r, w and m`);
  }
  return value;
}

/** Every device node under `dir` (recursively), mapped below `containerDir`. */
async function devicesUnder(dir: string, containerDir: string, skip: ReadonlySet<string> = new Set()): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const hostPath = path.join(dir, entry.name);
    const inside = path.posix.join(containerDir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.has(entry.name)) out.push(...await devicesUnder(hostPath, inside));
    } else if ((entry.isCharacterDevice() || entry.isBlockDevice()) && hostPath !== '/dev/console') {
      const device = await deviceAt(hostPath, inside).catch(() => undefined);
      if (device) out.push(device);
    }
  }
  return out;
}

/** One --device: a node, or a directory of nodes; a symlink on the host is followed. */
async function mappedDevices(mapping: DeviceMapping): Promise<ContainerDevices> {
  const access = checkPermissions(mapping.CgroupPermissions || 'rwm', mapping.PathOnHost);
  const inside = mapping.PathInContainer || mapping.PathOnHost;
  let hostPath: string;
  try {
    hostPath = (await lstat(mapping.PathOnHost)).isSymbolicLink() ? await realpath(mapping.PathOnHost) : mapping.PathOnHost;
    const single = (await stat(hostPath)).isDirectory() ? undefined : await deviceAt(hostPath, inside);
    const devices = single ? [single] : await devicesUnder(hostPath, inside).catch(() => []);
    if (devices.length === 0) {
      throw invalidArgument('NOT_A_DEVICE', `error gathering device information while adding custom device "${mapping.PathOnHost}": not a device node`);
    }
    return { devices, rules: devices.map((d) => ({ allow: true, type: d.type, major: d.major ?? null, minor: d.minor ?? null, access })) };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw invalidArgument('NO_SUCH_DEVICE', `error gathering device information while adding custom device "${mapping.PathOnHost}": no such file or directory`);
    }
    throw err;
  }
}

/** `--device-cgroup-rule 'c 10:229 rwm'` ('a' for all, '*' for any number), as dockerd parses it. */
export function parseDeviceCgroupRule(rule: string): LinuxDeviceCgroup {
  const match = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!match) throw invalidArgument('BAD_DEVICE_CGROUP_RULE', `invalid device cgroup rule format: '${rule}'`);
  const [, type = 'a', major = '*', minor = '*', access = ''] = match;
  return { allow: true, type, major: major === '*' ? null : Number(major), minor: minor === '*' ? null : Number(minor),
    access: checkPermissions(access, rule) };
}

/**
 * The devices a container gets beside the default ones: --privileged brings every host device
 * (its cgroup allows all), --device the named ones with their rules, --device-cgroup-rule rules.
 */
export async function containerDevices(host: { Privileged?: boolean | undefined; Devices?: DeviceMapping[] | null | undefined;
  DeviceCgroupRules?: string[] | null | undefined }): Promise<ContainerDevices> {
  const out: ContainerDevices = { devices: [], rules: [] };
  if (host.Privileged === true) out.devices.push(...await devicesUnder('/dev', '/dev', SKIPPED_DEV_DIRS));
  for (const mapping of host.Devices ?? []) {
    const mapped = await mappedDevices(mapping);
    const taken = new Set(mapped.devices.map((d) => d.path));
    out.devices = [...out.devices.filter((d) => !taken.has(d.path)), ...mapped.devices];
    out.rules.push(...mapped.rules);
  }
  for (const rule of host.DeviceCgroupRules ?? []) out.rules.push(parseDeviceCgroupRule(rule));
  return out;
}
