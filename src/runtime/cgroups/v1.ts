// cgroup v1: one hierarchy per controller (or per co-mounted group such as cpu,cpuacct).
// A container's cgroup is a directory of the same path in every mounted hierarchy.
import path from 'node:path';
import { BerthError, invalidArgument, notFound, withCleanup } from '../../errors/berth-error.js';
import type { LinuxBlockIO, LinuxCpu, LinuxMemory } from '../../oci/runtime-spec.js';
import {
  controlExists, makeDirectories, parseBlkioV1, parseKeyValues, parseLimit, parseNumber, pollUntil, readControl, readControlNow, removeEmptyDirectoriesNow,
  subtreePids, writeControl, writeControlSequence,
} from './cgroupfs.js';
import { checkCpuList, deviceRuleLine, hugepageSize, pidsMax, withoutRepeatedAllows } from './convert.js';
import { destroyDirectories, killProcesses, waitUntilEmpty } from './lifecycle.js';
import type { CgroupHandle, CgroupManager, CgroupResources, CgroupStats, FreezerState } from './manager.js';
import {
  type CgroupMount, type OwnCgroupReader, directoryInMount, isStrictlyInside, parseCgroupsPath, parseProcCgroup, readOwnCgroup,
} from './paths.js';

interface Hierarchy {
  /** controllers of this mount, e.g. ["cpu", "cpuacct"] or ["name=systemd"] */
  controllers: string[];
  mount: CgroupMount;
}

export class CgroupV1Manager implements CgroupManager {
  readonly version = 1 as const;
  private readonly hierarchies: Hierarchy[];

  constructor(readonly root: string, mounts: CgroupMount[], private readonly ownCgroup: OwnCgroupReader = readOwnCgroup) {
    const seen = new Set<string>();
    this.hierarchies = [];
    for (const mount of mounts) {
      if (mount.fsType !== 'cgroup' || mount.controllers.length === 0) continue;
      const key = [...mount.controllers].sort().join(',');
      if (seen.has(key)) continue; // the same hierarchy mounted twice
      seen.add(key);
      this.hierarchies.push({ controllers: mount.controllers, mount });
    }
    if (this.hierarchies.length === 0) {
      throw new BerthError('unavailable', 'NO_CGROUPS', `no cgroup v1 hierarchy is mounted under ${root}`);
    }
  }

  async directoriesOf(cgroupsPath: string): Promise<Record<string, string>> {
    const parsed = parseCgroupsPath(cgroupsPath);
    const own = parsed.kind === 'relative' ? parseProcCgroup(await this.ownCgroup()) : undefined;
    const dirs: Record<string, string> = {};
    for (const h of this.hierarchies) {
      const base = own?.get(h.controllers[0] ?? '') ?? '/';
      const cgroupPath = parsed.kind === 'relative' ? path.posix.join(base, parsed.path) : parsed.path;
      const dir = directoryInMount(h.mount, cgroupPath);
      for (const controller of h.controllers) dirs[controller] = dir;
    }
    return dirs;
  }

  async create(cgroupsPath: string, resources?: CgroupResources): Promise<CgroupHandle> {
    const directories = await this.directoriesOf(cgroupsPath);
    if (Object.values(directories).some((dir) => this.hierarchies.some((h) => path.posix.relative(h.mount.mountPoint, dir) === ''))) {
      throw invalidArgument('INVALID_CGROUPS_PATH', `invalid linux.cgroupsPath '${cgroupsPath}': it is the root cgroup`);
    }
    const made: string[] = [];
    return await withCleanup(async () => {
      // one mkdir per hierarchy (9 on a typical host), synchronous: see makeDirectories
      for (const dir of new Set(Object.values(directories))) {
        const newDirs = makeDirectories(dir);
        made.push(...newDirs);
        if (directories.cpuset === dir) populateCpusets(newDirs);
      }
      const handle = new CgroupV1Handle(parseCgroupsPath(cgroupsPath).path, directories, made);
      if (resources !== undefined) await handle.applyResources(resources);
      return handle;
    }, async () => {
      await destroyDirectories([...made].reverse(), [], Date.now() + 1000);
    });
  }

  async open(cgroupsPath: string, savedDirectories?: Readonly<Record<string, string>>): Promise<CgroupHandle> {
    const directories = savedDirectories === undefined ? await this.directoriesOf(cgroupsPath) : this.checkSaved(savedDirectories);
    const probe = directories.pids ?? directories.freezer ?? directories.memory ?? Object.values(directories)[0];
    if (probe === undefined || !controlExists(probe, 'cgroup.procs')) {
      throw notFound('CGROUP_NOT_FOUND', `cgroup '${cgroupsPath}' does not exist (looked in ${probe ?? this.root})`);
    }
    return new CgroupV1Handle(parseCgroupsPath(cgroupsPath).path, directories, []);
  }

  private checkSaved(saved: Readonly<Record<string, string>>): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [controller, dir] of Object.entries(saved)) {
      const mount = this.hierarchies.find((h) => h.controllers.includes(controller))?.mount.mountPoint;
      if (mount === undefined || !isStrictlyInside(mount, dir)) {
        throw invalidArgument('INVALID_CGROUPS_PATH', `saved cgroup directory ${dir} for '${controller}' is not inside a cgroup mount`);
      }
      result[controller] = dir;
    }
    return result;
  }
}

/** Wait for every one of `work` (none left running behind a failure), then throw the first failure. */
async function settleAll(work: ReadonlyArray<Promise<unknown> | false | undefined>): Promise<void> {
  const results = await Promise.allSettled(work.filter((w): w is Promise<unknown> => w instanceof Promise));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * A new cpuset cgroup starts with empty cpus/mems; copy them down from the parent or it cannot
 * take tasks. An ancestor another create made a moment ago may still be empty too (concurrent
 * creates under a new parent): fill the chain from the first filled ancestor down. Writing
 * the same values twice is harmless, so directories made here are written without reading.
 */
function populateCpusets(newDirs: readonly string[]): void {
  const leaf = newDirs[newDirs.length - 1];
  if (leaf === undefined) return;
  const chain: string[] = []; // innermost first
  let values: string[] | undefined;
  for (let dir = leaf; values === undefined; dir = path.dirname(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) return; // no ancestor has values: nothing to copy
    chain.push(dir);
    if (newDirs.includes(parent)) continue;
    const found = CPUSET_FILES.map((file) => readControlNow(parent, file));
    if (found.every((value): value is string => value !== undefined && value !== '')) values = found;
  }
  for (const dir of chain.reverse()) {
    writeControlSequence(dir, CPUSET_FILES.map((file, i) => [file, values?.[i] ?? ''] as const));
  }
}

const CPUSET_FILES = ['cpuset.cpus', 'cpuset.mems'] as const;

class CgroupV1Handle implements CgroupHandle {
  readonly version = 1 as const;

  constructor(
    readonly path: string,
    readonly directories: Readonly<Record<string, string>>,
    /** directories create() made, outermost first */
    private readonly made: readonly string[],
  ) {}

  private dir(controller: string, field: string): string {
    const dir = this.directories[controller];
    if (dir === undefined) {
      throw new BerthError('unavailable', 'CGROUP_CONTROLLER_MISSING',
        `cgroup v1 controller '${controller}' is not mounted, but ${field} is set`);
    }
    return dir;
  }

  async addProcess(pid: number): Promise<void> {
    await settleAll([...new Set(Object.values(this.directories))].map((dir) => writeControl(dir, 'cgroup.procs', pid)));
  }

  async applyResources(r: CgroupResources): Promise<void> {
    if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
      throw invalidArgument('INVALID_RESOURCES', 'linux.resources.unified is only valid on cgroup v2, this host uses cgroup v1');
    }
    // each controller is its own hierarchy: their settings are written concurrently
    const { memory, cpu, pids, blockIO, devices } = r;
    await settleAll([
      memory && this.applyMemory(memory),
      cpu && this.applyCpu(cpu),
      pids && (async () => { await writeControl(this.dir('pids', 'linux.resources.pids'), 'pids.max', pidsMax(pids.limit)); })(),
      blockIO && this.applyBlockIO(blockIO),
      devices && devices.length > 0 && this.applyDevices(devices),
    ]);
    for (const [i, limit] of (r.hugepageLimits ?? []).entries()) {
      const dir = this.dir('hugetlb', `linux.resources.hugepageLimits[${i}]`);
      await writeControl(dir, `hugetlb.${hugepageSize(limit.pageSize, i)}.limit_in_bytes`, limit.limit);
    }
    if (r.network?.classID !== undefined) {
      await writeControl(this.dir('net_cls', 'linux.resources.network.classID'), 'net_cls.classid', r.network.classID);
    }
    for (const p of r.network?.priorities ?? []) {
      await writeControl(this.dir('net_prio', 'linux.resources.network.priorities'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
    }
  }

  private async applyMemory(m: LinuxMemory): Promise<void> {
    const dir = this.dir('memory', 'linux.resources.memory');
    // -1 for memory with swap unset means both unlimited (runc).
    const swap = m.limit === -1 && (m.swap ?? 0) === 0 ? -1 : m.swap;
    const hasMemsw = controlExists(dir, 'memory.memsw.limit_in_bytes');
    if (swap !== undefined && swap !== 0 && !hasMemsw && swap !== -1) {
      throw new BerthError('unavailable', 'CGROUP_CONTROLLER_MISSING',
        `linux.resources.memory.swap is set but ${dir} has no memory.memsw.limit_in_bytes (swap accounting is off)`);
    }
    const writeLimit = async (): Promise<void> => {
      if (m.limit !== undefined && m.limit !== 0) await writeControl(dir, 'memory.limit_in_bytes', m.limit);
    };
    const writeSwap = async (): Promise<void> => {
      if (swap !== undefined && swap !== 0 && hasMemsw) await writeControl(dir, 'memory.memsw.limit_in_bytes', swap);
    };
    // The kernel wants memsw >= limit at every moment: raise swap first when it is going
    // above the current limit (null: the limit is unlimited now, so set the limit first).
    const current = parseLimit(await readControl(dir, 'memory.limit_in_bytes'));
    if (swap !== undefined && swap !== 0 && (swap === -1 || (current !== null && current < swap))) {
      await writeSwap();
      await writeLimit();
    } else {
      await writeLimit();
      await writeSwap();
    }
    if (m.reservation !== undefined && m.reservation !== 0) await writeControl(dir, 'memory.soft_limit_in_bytes', m.reservation);
    // memory.kmem.limit_in_bytes is gone from current kernels; runc ignores `kernel` too.
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) await writeControl(dir, 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP);
    if (m.swappiness !== undefined && m.swappiness <= 100) await writeControl(dir, 'memory.swappiness', m.swappiness);
    if (m.swappiness !== undefined && m.swappiness > 100) {
      throw invalidArgument('INVALID_RESOURCES', `linux.resources.memory.swappiness ${m.swappiness} is above 100`);
    }
    if (m.disableOOMKiller) await writeControl(dir, 'memory.oom_control', 1);
    if (m.useHierarchy !== undefined && controlExists(dir, 'memory.use_hierarchy')) {
      // Newer kernels fix use_hierarchy at 1 and refuse 0; only write what differs.
      const want = m.useHierarchy ? '1' : '0';
      if ((await readControl(dir, 'memory.use_hierarchy')) !== want) await writeControl(dir, 'memory.use_hierarchy', want);
    }
  }

  private async applyCpu(c: LinuxCpu): Promise<void> {
    if (c.cpus !== undefined && c.cpus !== '') {
      await writeControl(this.dir('cpuset', 'linux.resources.cpu.cpus'), 'cpuset.cpus', checkCpuList(c.cpus, 'cpus'));
    }
    if (c.mems !== undefined && c.mems !== '') {
      await writeControl(this.dir('cpuset', 'linux.resources.cpu.mems'), 'cpuset.mems', checkCpuList(c.mems, 'mems'));
    }
    const needsCpu = c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle;
    if (!needsCpu) return;
    const dir = this.dir('cpu', 'linux.resources.cpu');
    if (c.shares) await writeControl(dir, 'cpu.shares', c.shares);
    if (c.period) {
      try {
        await writeControl(dir, 'cpu.cfs_period_us', c.period);
      } catch (err) {
        // A smaller period can conflict with the old quota: set the quota first, then retry.
        if (!c.quota) throw err;
        await writeControl(dir, 'cpu.cfs_quota_us', c.quota);
        await writeControl(dir, 'cpu.cfs_period_us', c.period);
      }
    }
    if (c.quota) await writeControl(dir, 'cpu.cfs_quota_us', c.quota < 0 ? -1 : c.quota);
    if (c.burst !== undefined) await writeControl(dir, 'cpu.cfs_burst_us', c.burst);
    if (c.realtimePeriod) await writeControl(dir, 'cpu.rt_period_us', c.realtimePeriod);
    if (c.realtimeRuntime) await writeControl(dir, 'cpu.rt_runtime_us', c.realtimeRuntime);
    if (c.idle) await writeControl(dir, 'cpu.idle', c.idle);
  }

  private async applyBlockIO(b: LinuxBlockIO): Promise<void> {
    const dir = this.dir('blkio', 'linux.resources.blockIO');
    // CFQ is gone from current kernels; BFQ offers blkio.bfq.weight when it is the scheduler.
    const weightFile = controlExists(dir, 'blkio.weight') ? 'blkio.weight' : 'blkio.bfq.weight';
    const weightDeviceFile = weightFile === 'blkio.weight' ? 'blkio.weight_device' : 'blkio.bfq.weight';
    if (b.weight) await writeControl(dir, weightFile, b.weight);
    if (b.leafWeight) await writeControl(dir, 'blkio.leaf_weight', b.leafWeight);
    for (const d of b.weightDevice ?? []) {
      if (d.weight) await writeControl(dir, weightDeviceFile, `${d.major}:${d.minor} ${d.weight}`);
      if (d.leafWeight) await writeControl(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
    }
    const throttles: Array<[string, typeof b.throttleReadBpsDevice]> = [
      ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
      ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
      ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
      ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
    ];
    for (const [file, list] of throttles) {
      for (const d of list ?? []) await writeControl(dir, file, `${d.major}:${d.minor} ${d.rate}`);
    }
  }

  private async applyDevices(rules: NonNullable<CgroupResources['devices']>): Promise<void> {
    const dir = this.dir('devices', 'linux.resources.devices');
    const lines = withoutRepeatedAllows(rules.map((rule, i) => ({ allow: rule.allow, line: deviceRuleLine(rule, i) })));
    // Start from "deny all" unless the first rule decides about everything itself (runc).
    const writes = lines.map(({ allow, line }) => [allow ? 'devices.allow' : 'devices.deny', line] as const);
    writeControlSequence(dir, lines[0]?.line !== 'a' ? [['devices.deny', 'a'], ...writes] : writes);
  }

  async freeze(): Promise<void> {
    const dir = this.dir('freezer', 'freeze');
    const frozen = await pollUntil(async () => {
      await writeControl(dir, 'freezer.state', 'FROZEN');
      return (await readControl(dir, 'freezer.state')) === 'FROZEN';
    }, 5000, 10);
    if (!frozen) {
      await writeControl(dir, 'freezer.state', 'THAWED');
      throw new BerthError('internal', 'CGROUP_FREEZE_TIMEOUT', `cgroup ${dir} did not reach FROZEN within 5s`);
    }
  }

  async thaw(): Promise<void> {
    await writeControl(this.dir('freezer', 'thaw'), 'freezer.state', 'THAWED');
  }

  async state(): Promise<FreezerState> {
    const dir = this.directories.freezer;
    const value = dir === undefined ? undefined : await readControl(dir, 'freezer.state');
    if (value === 'FROZEN') return 'frozen';
    if (value === 'FREEZING') return 'freezing';
    return 'thawed';
  }

  private procsDir(): string {
    const dir = this.directories.pids ?? this.directories.freezer ?? this.directories.memory ?? Object.values(this.directories)[0];
    if (dir === undefined) throw new BerthError('internal', 'NO_CGROUPS', `cgroup ${this.path} has no directories`);
    return dir;
  }

  async pids(): Promise<number[]> {
    return await subtreePids(this.procsDir());
  }

  async oomKills(): Promise<number> {
    const mem = this.directories.memory;
    return mem === undefined ? 0 : parseKeyValues(await readControl(mem, 'memory.oom_control')).oom_kill ?? 0;
  }

  async stats(): Promise<CgroupStats> {
    const mem = this.directories.memory;
    const cpu = this.directories.cpu;
    const acct = this.directories.cpuacct;
    const pids = this.directories.pids;
    const read = async (dir: string | undefined, file: string): Promise<string | undefined> =>
      dir === undefined ? undefined : await readControl(dir, file);
    const cpuacctStat = parseKeyValues(await read(acct, 'cpuacct.stat'));
    const throttle = parseKeyValues(await read(cpu, 'cpu.stat'));
    const tickNanos = 1e9 / 100; // cpuacct.stat counts USER_HZ (100) ticks
    return {
      memory: {
        usage: parseNumber(await read(mem, 'memory.usage_in_bytes')),
        limit: parseLimit(await read(mem, 'memory.limit_in_bytes')),
        maxUsage: parseLimit(await read(mem, 'memory.max_usage_in_bytes')),
        failCount: parseNumber(await read(mem, 'memory.failcnt')),
        stat: parseKeyValues(await read(mem, 'memory.stat')),
      },
      cpu: {
        usageNanos: parseNumber(await read(acct, 'cpuacct.usage')),
        userNanos: (cpuacctStat.user ?? 0) * tickNanos,
        systemNanos: (cpuacctStat.system ?? 0) * tickNanos,
        perCpuNanos: ((await read(acct, 'cpuacct.usage_percpu')) ?? '').split(/\s+/).filter((v) => v !== '').map(Number),
        throttling: {
          periods: throttle.nr_periods ?? 0,
          throttledPeriods: throttle.nr_throttled ?? 0,
          throttledNanos: throttle.throttled_time ?? 0,
        },
      },
      pids: { current: parseNumber(await read(pids, 'pids.current')), limit: parseLimit(await read(pids, 'pids.max')) },
      io: parseBlkioV1(await read(this.directories.blkio, 'blkio.throttle.io_service_bytes_recursive'),
        await read(this.directories.blkio, 'blkio.throttle.io_serviced_recursive')),
    };
  }

  async killAll(signal: NodeJS.Signals | number): Promise<void> {
    const freezer = this.directories.freezer;
    const isKill = signal === 'SIGKILL' || signal === 9;
    // Frozen tasks cannot fork between our listing and our kill; SIGKILL still lands.
    if (isKill && freezer !== undefined) await this.freeze();
    try {
      killProcesses(await this.pids(), signal);
    } finally {
      if (isKill && freezer !== undefined) await this.thaw();
    }
  }

  async destroy(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const leaves = [...new Set(Object.values(this.directories))];
    // nearly always: no process left, no child cgroup, no ancestor of ours to remove
    if (removeEmptyDirectoriesNow(leaves) && this.made.every((dir) => leaves.includes(dir))) return;
    await waitUntilEmpty(this, timeoutMs);
    await destroyDirectories(leaves, [...this.made].reverse(), Date.now() + timeoutMs);
  }
}
