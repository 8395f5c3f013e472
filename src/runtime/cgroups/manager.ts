// The cgroup manager interface the runtime codes against, and the choice between the
// v1 (one hierarchy per controller) and v2 (unified) implementations.
//
// Paths: `cgroupsPath` is what config.json says. Absolute paths are taken relative to the
// cgroup mount (per controller on v1); relative paths are taken relative to berth's own
// cgroup as runc does (v2: the parent of our own cgroup, which has no processes in it);
// systemd-style "slice:prefix:name" is mapped to "/<expanded slice>/<prefix>-<name>.scope"
// without talking to systemd (berth has no systemd driver).
import type { CgroupResources } from './resources.js';

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
}

export interface CgroupHandle {
  /** the resolved cgroup path, relative to the cgroup mount(s), always absolute ("/berth/abc") */
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
  /** open an existing cgroup; not_found (CGROUP_NOT_FOUND) when it does not exist */
  open(cgroupsPath: string): Promise<CgroupHandle>;
  /** the absolute cgroup path `cgroupsPath` resolves to (no I/O besides /proc/self/cgroup) */
  resolve(cgroupsPath: string): Promise<string>;
}
