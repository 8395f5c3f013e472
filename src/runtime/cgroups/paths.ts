// Where cgroups live: parsing /proc/self/mountinfo and /proc/<pid>/cgroup, and turning a
// config.json `cgroupsPath` into an absolute cgroup path the way runc does.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';

/** Where the "own cgroup" of relative paths comes from; a parameter so tests can fake it. */
export type OwnCgroupReader = () => Promise<string>;

export const readOwnCgroup: OwnCgroupReader = async () => await readFile('/proc/self/cgroup', 'utf8');

export interface CgroupMount {
  /** where it is mounted, e.g. /sys/fs/cgroup/memory */
  mountPoint: string;
  /** the cgroup path that is the root of this mount (usually "/") */
  root: string;
  fsType: 'cgroup' | 'cgroup2';
  /** v1 controllers (and "name=systemd"); empty for cgroup2 */
  controllers: string[];
}

/** The cgroup and cgroup2 mounts in a /proc/self/mountinfo text, under `under` if given. */
export function parseCgroupMounts(mountinfo: string, under?: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fsType = right[0];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const mountPoint = unescapeMountField(left[4] ?? '');
    if (under !== undefined && mountPoint !== under && !mountPoint.startsWith(`${under}/`)) continue;
    const superOptions = (right[2] ?? '').split(',');
    const controllers = fsType === 'cgroup'
      ? superOptions.filter((o) => !['rw', 'ro'].includes(o) && (o.startsWith('name=') || !o.includes('=')) && !KNOWN_OPTIONS.has(o))
      : [];
    mounts.push({ mountPoint, root: unescapeMountField(left[3] ?? '/'), fsType, controllers });
  }
  return mounts;
}

const KNOWN_OPTIONS = new Set(['none', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods', 'nsdelegate',
  'memory_localevents', 'memory_recursiveprot', 'memory_hugetlb_accounting']);

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** /proc/<pid>/cgroup as controller -> path; the v2 entry ("0::/x") is keyed "". */
export function parseProcCgroup(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const cgroupPath = line.slice(second + 1);
    if (controllers === '') result.set('', cgroupPath);
    for (const controller of controllers.split(',')) if (controller !== '') result.set(controller, cgroupPath);
  }
  return result;
}

/**
 * Check a cgroupsPath and classify it. Hostile input: ".." segments, NUL bytes and
 * newlines are refused, so the path can never leave the cgroup mount.
 */
export type ParsedCgroupsPath =
  | { kind: 'absolute'; path: string }
  | { kind: 'relative'; path: string };

export function parseCgroupsPath(cgroupsPath: string): ParsedCgroupsPath {
  if (cgroupsPath === '') throw badPath(cgroupsPath, 'it is empty');
  if (/[\0\n]/.test(cgroupsPath)) throw badPath(cgroupsPath, 'it contains a NUL or newline');
  if (!cgroupsPath.startsWith('/') && isSystemdStyle(cgroupsPath)) {
    return { kind: 'absolute', path: systemdToPath(cgroupsPath) };
  }
  if (cgroupsPath.split('/').includes('..')) throw badPath(cgroupsPath, "it contains '..'");
  const normalized = path.posix.normalize(cgroupsPath).replace(/\/+$/, '');
  if (cgroupsPath.startsWith('/')) return { kind: 'absolute', path: normalized === '' ? '/' : normalized };
  if (normalized === '.' || normalized === '') throw badPath(cgroupsPath, 'it names no cgroup');
  return { kind: 'relative', path: normalized };
}

function isSystemdStyle(p: string): boolean {
  const parts = p.split(':');
  return parts.length === 3 && !p.includes('/');
}

/**
 * "slice:prefix:name" -> "/<expanded slice>/<prefix>-<name>.scope" as runc's systemd driver
 * names it ("system.slice:docker:abc" -> "/system.slice/docker-abc.scope"; "a-b.slice"
 * expands to "/a.slice/a-b.slice"; an empty slice means system.slice).
 */
export function systemdToPath(value: string): string {
  const [slice = '', prefix = '', name = ''] = value.split(':');
  if (name === '') throw badPath(value, 'the systemd form "slice:prefix:name" needs a name');
  if (/[/\\]/.test(name) || /[/\\]/.test(prefix)) throw badPath(value, 'the systemd name and prefix may not contain a slash');
  const unit = name.endsWith('.slice') ? name : prefix === '' ? `${name}.scope` : `${prefix}-${name}.scope`;
  return path.posix.join(expandSlice(slice === '' ? 'system.slice' : slice, value), unit);
}

function expandSlice(slice: string, whole: string): string {
  if (!slice.endsWith('.slice') || slice.includes('/')) throw badPath(whole, `'${slice}' is not a systemd slice name`);
  if (slice === '-.slice') return '/';
  const base = slice.slice(0, -'.slice'.length);
  if (base.startsWith('-') || base.endsWith('-') || base.includes('--')) throw badPath(whole, `'${slice}' is not a valid slice name`);
  let result = '';
  let prefix = '';
  for (const component of base.split('-')) {
    prefix = prefix === '' ? component : `${prefix}-${component}`;
    result += `/${prefix}.slice`;
  }
  return result;
}

function badPath(value: string, why: string): Error {
  return invalidArgument('INVALID_CGROUPS_PATH', `invalid linux.cgroupsPath '${value}': ${why}`);
}

/** The directory of cgroup `cgroupPath` inside a mount whose root is `mount.root`. */
export function directoryInMount(mount: Pick<CgroupMount, 'mountPoint' | 'root'>, cgroupPath: string): string {
  let inner = cgroupPath;
  if (mount.root !== '/' && (inner === mount.root || inner.startsWith(`${mount.root}/`))) {
    inner = inner.slice(mount.root.length) || '/';
  }
  return path.posix.join(mount.mountPoint, inner);
}

/** `dir` is below `parent` (not equal to it), with no ".." tricks. */
export function isStrictlyInside(parent: string, dir: string): boolean {
  const relative = path.posix.relative(parent, path.posix.normalize(dir));
  return relative !== '' && !relative.startsWith('..') && !path.posix.isAbsolute(relative);
}
