// The cgroup manager interface the runtime codes against, and the choice between the
// v1 (one hierarchy per controller) and v2 (unified) implementations.
//
// Paths: `cgroupsPath` is what config.json says. Absolute paths are taken relative to the
// cgroup mount (per controller on v1); relative paths are taken relative to berth's own
// cgroup as runc does (v2: the parent of our own cgroup, which has no processes in it);
// systemd-style "slice:prefix:name" is mapped to "/<expanded slice>/<prefix>-<name>.scope"
// without talking to systemd (berth has no systemd driver).
import { readFile, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { subtreeDeepestFirst } from './cgroupfs.js';
import { type OwnCgroupReader, parseCgroupMounts } from './paths.js';
import type { CgroupResources } from './resources.js';
import { CgroupV1Manager } from './v1.js';
import { CgroupV2Manager } from './v2.js';

export type { CgroupResources } from './resources.js';

export type CgroupVersion = 1 | 2;

/** The freezer state in runc's words: v1 freezer.state, v2 cgroup.freeze + cgroup.events. */
export type FreezerState = 'thawed' | 'freezing' | 'frozen';

export interface CgroupStats {
  memory: {
    /** bytes in use now (v1 memory.usage_in_bytes, v2 memory.current) */
    usage: number;
    /** the limit in bytes, null when unlimited or not available */
    limit: number | null;
    /** peak usage in bytes (v1 max_usage_in_bytes, v2 memory.peak), null when unknown */
    maxUsage: number | null;
    /** how often the limit was hit (v1 failcnt, v2 memory.events max) */
    failCount: number;
    /** memory.stat as key -> number */
    stat: Record<string, number>;
  };
  cpu: {
    /** total cpu time in nanoseconds */
    usageNanos: number;
    userNanos: number;
    systemNanos: number;
    /** per-cpu usage in nanoseconds (v1 cpuacct.usage_percpu; empty on v2) */
    perCpuNanos: number[];
    throttling: { periods: number; throttledPeriods: number; throttledNanos: number };
  };
  pids: {
    current: number;
    /** null when unlimited ("max") or the controller is missing */
    limit: number | null;
  };
  /** block I/O per device (v1 blkio.throttle.*_recursive, v2 io.stat); empty when unknown */
  io: IoDeviceStats[];
}

export interface IoDeviceStats {
  major: number;
  minor: number;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

export interface CgroupHandle {
  /**
   * the normalized cgroupsPath: absolute ("/berth/abc") for absolute and systemd forms,
   * relative ("berth/abc") for relative ones; where it lands is in `directories`
   */
  readonly path: string;
  readonly version: CgroupVersion;
  /** the directories of this cgroup: controller -> dir on v1, { unified: dir } on v2 */
  readonly directories: Readonly<Record<string, string>>;
  /** move a process into the cgroup (every controller) */
  addProcess(pid: number): Promise<void>;
  /** write resource settings (create and `update`); fields left out are not touched */
  applyResources(resources: CgroupResources): Promise<void>;
  /** freeze every process and wait until the kernel reports frozen */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  state(): Promise<FreezerState>;
  /** pids of every process in the cgroup and its descendants */
  pids(): Promise<number[]>;
  stats(): Promise<CgroupStats>;
  /** processes the OOM killer killed in this cgroup (v1 memory.oom_control, v2 memory.events oom_kill); 0 when unknown */
  oomKills?(): Promise<number>;
  /**
   * Signal every process. With SIGKILL the group is frozen first (v2: cgroup.kill when
   * present) so nothing can fork away between listing and killing.
   */
  killAll(signal: NodeJS.Signals | number): Promise<void>;
  /**
   * Wait until the cgroup is empty (up to timeoutMs, default 5000), then remove every
   * directory this handle created (leaf first). Idempotent.
   */
  destroy(options?: { timeoutMs?: number }): Promise<void>;
}

export interface CgroupManager {
  readonly version: CgroupVersion;
  /** where the cgroup filesystem(s) are mounted, e.g. /sys/fs/cgroup */
  readonly root: string;
  /** create (or reuse) the cgroup in every controller and apply resources if given */
  create(cgroupsPath: string, resources?: CgroupResources): Promise<CgroupHandle>;
  /**
   * Open an existing cgroup; not_found (CGROUP_NOT_FOUND) when it does not exist. Pass the
   * `directories` saved at create time to find it again from a process in another cgroup
   * (a relative cgroupsPath resolves against the caller's own cgroup); they are checked to
   * lie inside the cgroup mounts.
   */
  open(cgroupsPath: string, savedDirectories?: Readonly<Record<string, string>>): Promise<CgroupHandle>;
  /** the directories `cgroupsPath` maps to (controller -> dir; v2: { unified: dir }); no changes made */
  directoriesOf(cgroupsPath: string): Promise<Record<string, string>>;
}

export interface DetectOptions {
  /** /proc/self/mountinfo text; read from the machine when left out */
  mountinfo?: string;
  /** /proc/self/cgroup text for relative cgroupsPaths; read from the machine when left out */
  ownCgroup?: OwnCgroupReader;
}

/**
 * v2 when `root` itself is a cgroup2 mount (unified mode); v1 when cgroup v1 hierarchies are
 * mounted under it (legacy or hybrid mode: a cgroup2 at root/unified with no controllers is
 * not used, as runc does).
 */
export async function detectCgroupManager(root = '/sys/fs/cgroup', options: DetectOptions = {}): Promise<CgroupManager> {
  const mountinfo = options.mountinfo ?? await readFile('/proc/self/mountinfo', 'utf8');
  const normalizedRoot = path.posix.normalize(root).replace(/\/+$/, '') || '/';
  const mounts = parseCgroupMounts(mountinfo, normalizedRoot);
  if (mounts.some((m) => m.fsType === 'cgroup2' && m.mountPoint === normalizedRoot)) {
    return new CgroupV2Manager(normalizedRoot, options.ownCgroup);
  }
  const v1 = mounts.filter((m) => m.fsType === 'cgroup');
  if (v1.length > 0) return new CgroupV1Manager(normalizedRoot, v1, options.ownCgroup);
  throw new BerthError('unavailable', 'NO_CGROUPS', `no cgroup filesystem is mounted at ${normalizedRoot}`, {
    hint: 'mount cgroup2 at /sys/fs/cgroup (or cgroup v1 hierarchies below it)',
  });
}

/**
 * Remove empty leftover cgroups whose path starts with `prefix` (after a crash). "/berth/"
 * sweeps everything below /berth; "/berth-test-" sweeps /berth-test-* and what is below.
 * Groups that still hold processes stay. Returns the directories removed.
 */
export async function sweepCgroups(manager: CgroupManager, prefix: string): Promise<string[]> {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '' || trimmed === '.' || (prefix.startsWith('/') && trimmed.split('/').filter(Boolean).length === 0)) {
    throw invalidArgument('INVALID_CGROUPS_PATH', `refusing to sweep cgroup prefix '${prefix}': it names the whole hierarchy`);
  }
  const sweepChildrenOnly = prefix.endsWith('/');
  const namePrefix = sweepChildrenOnly ? '' : path.posix.basename(trimmed);
  // directoriesOf resolves relative prefixes too; the parent dir is where to look for names.
  const targets = Object.values(await manager.directoriesOf(trimmed));
  const parents = new Set(sweepChildrenOnly ? targets : targets.map((dir) => path.posix.dirname(dir)));
  const removed: string[] = [];
  for (const parent of parents) {
    let entries;
    try {
      entries = await readdir(parent, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || !entry.name.startsWith(namePrefix)) continue;
      for (const dir of await subtreeDeepestFirst(path.posix.join(parent, entry.name))) {
        try {
          await rmdir(dir);
          removed.push(dir);
        } catch (err) {
          if (!['EBUSY', 'ENOTEMPTY', 'ENOENT'].includes(errnoCode(err) ?? '')) throw err;
        }
      }
    }
  }
  return removed;
}
