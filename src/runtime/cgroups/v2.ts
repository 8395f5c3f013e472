// cgroup v2: one unified hierarchy. Controllers are enabled top-down through
// cgroup.subtree_control of every ancestor; the container's cgroup is a leaf.
//
// Device rules: v2 has no devices.allow file; runc attaches an eBPF program instead.
// berth does not do that yet, so linux.resources.devices is not enforced on v2 (the
// device nodes in /dev are still limited to what the bundle lists).
import path from 'node:path';
import { BerthError, invalidArgument, notFound, withCleanup } from '../../errors/berth-error.js';
import type { LinuxBlockIO, LinuxCpu, LinuxMemory } from '../../oci/runtime-spec.js';
import {
  controlExists, makeDirectories, parseIoStatV2, parseKeyValues, parseLimit, parseNumber, pollUntil, readControl, removeEmptyDirectoriesNow,
  subtreePids, writeControl,
} from './cgroupfs.js';
import { blkioWeightToIoWeight, checkCpuList, cpuMax, hugepageSize, pidsMax, sharesToWeight, swapToV2, v2Limit } from './convert.js';
import { destroyDirectories, killProcesses, waitUntilEmpty } from './lifecycle.js';
import type { CgroupHandle, CgroupManager, CgroupResources, CgroupStats, FreezerState } from './manager.js';
import { type OwnCgroupReader, isStrictlyInside, parseCgroupsPath, parseProcCgroup, readOwnCgroup } from './paths.js';

export class CgroupV2Manager implements CgroupManager {
  readonly version = 2 as const;

  constructor(readonly root: string, private readonly ownCgroup: OwnCgroupReader = readOwnCgroup) {}

  async directoriesOf(cgroupsPath: string): Promise<Record<string, string>> {
    const parsed = parseCgroupsPath(cgroupsPath);
    if (parsed.kind === 'absolute') return { unified: path.posix.join(this.root, parsed.path) };
    // Relative to the parent of our own cgroup: ours has processes, so it cannot have
    // controllers enabled for children (runc does the same).
    const own = parseProcCgroup(await this.ownCgroup()).get('') ?? '/';
    return { unified: path.posix.join(this.root, path.posix.dirname(own), parsed.path) };
  }

  async create(cgroupsPath: string, resources?: CgroupResources): Promise<CgroupHandle> {
    const { unified: dir = this.root } = await this.directoriesOf(cgroupsPath);
    if (path.posix.relative(this.root, dir) === '') {
      throw invalidArgument('INVALID_CGROUPS_PATH', `invalid linux.cgroupsPath '${cgroupsPath}': it is the root cgroup`);
    }
    const made: string[] = [];
    return await withCleanup(async () => {
      made.push(...makeDirectories(dir));
      await this.enableControllers(path.posix.dirname(dir));
      const handle = new CgroupV2Handle(parseCgroupsPath(cgroupsPath).path, dir, made);
      if (resources !== undefined) await handle.applyResources(resources);
      return handle;
    }, async () => {
      await destroyDirectories([...made].reverse(), [], Date.now() + 1000);
    });
  }

  /** Enable every available controller in subtree_control from the root down to `parent`. */
  private async enableControllers(parent: string): Promise<void> {
    const relative = path.posix.relative(this.root, parent);
    const chain = [this.root];
    let current = this.root;
    for (const part of relative === '' ? [] : relative.split('/')) {
      current = path.posix.join(current, part);
      chain.push(current);
    }
    for (const dir of chain) {
      const available = ((await readControl(dir, 'cgroup.controllers')) ?? '').split(/\s+/).filter((c) => c !== '');
      if (available.length === 0) continue;
      const enabled = new Set(((await readControl(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/));
      const missing = available.filter((c) => !enabled.has(c));
      if (missing.length === 0) continue;
      try {
        await writeControl(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
      } catch {
        // One controller (say cpu with realtime tasks around) can refuse; take the others.
        for (const c of missing) await writeControl(dir, 'cgroup.subtree_control', `+${c}`).catch(() => undefined);
      }
    }
  }

  async open(cgroupsPath: string, savedDirectories?: Readonly<Record<string, string>>): Promise<CgroupHandle> {
    const { unified: dir = this.root } = savedDirectories ?? await this.directoriesOf(cgroupsPath);
    if (!isStrictlyInside(this.root, dir)) {
      throw invalidArgument('INVALID_CGROUPS_PATH', `cgroup directory ${dir} is not inside the cgroup2 mount ${this.root}`);
    }
    if (!controlExists(dir, 'cgroup.procs')) {
      throw notFound('CGROUP_NOT_FOUND', `cgroup '${cgroupsPath}' does not exist (looked in ${dir})`);
    }
    return new CgroupV2Handle(parseCgroupsPath(cgroupsPath).path, dir, []);
  }
}

class CgroupV2Handle implements CgroupHandle {
  readonly version = 2 as const;
  readonly directories: Readonly<Record<string, string>>;

  constructor(readonly path: string, private readonly dir: string, private readonly made: readonly string[]) {
    this.directories = { unified: dir };
  }

  async addProcess(pid: number): Promise<void> {
    await writeControl(this.dir, 'cgroup.procs', pid);
  }

  async applyResources(r: CgroupResources): Promise<void> {
    if (r.memory) await this.applyMemory(r.memory);
    if (r.cpu) await this.applyCpu(r.cpu);
    if (r.pids) await writeControl(this.dir, 'pids.max', pidsMax(r.pids.limit));
    if (r.blockIO) await this.applyIo(r.blockIO);
    for (const [i, limit] of (r.hugepageLimits ?? []).entries()) {
      await writeControl(this.dir, `hugetlb.${hugepageSize(limit.pageSize, i)}.max`, limit.limit);
    }
    for (const [file, value] of Object.entries(r.unified ?? {})) {
      if (!/^[a-z_]+\.[a-z0-9_.]+$/.test(file)) {
        throw invalidArgument('INVALID_RESOURCES', `linux.resources.unified key '${file}' is not a cgroup file name`);
      }
      await writeControl(this.dir, file, value);
    }
  }

  private async applyMemory(m: LinuxMemory): Promise<void> {
    const swap = swapToV2(m.swap, m.limit);
    if (m.checkBeforeUpdate && m.limit !== undefined && m.limit > 0) {
      const current = parseNumber(await readControl(this.dir, 'memory.current'));
      if (current > m.limit) {
        throw invalidArgument('INVALID_RESOURCES', `linux.resources.memory.limit ${m.limit} is below the current usage ${current} of ${this.dir}`);
      }
    }
    if (swap !== undefined) {
      const value = v2Limit(swap);
      const swapFileExists = controlExists(this.dir, 'memory.swap.max');
      // Without swap accounting, "no swap" and "unlimited swap" are both already true.
      if (swapFileExists || !(value === 'max' || value === '0')) await writeControl(this.dir, 'memory.swap.max', value);
    }
    if (m.limit !== undefined && m.limit !== 0) await writeControl(this.dir, 'memory.max', v2Limit(m.limit));
    if (m.reservation !== undefined && m.reservation !== 0) await writeControl(this.dir, 'memory.low', v2Limit(m.reservation));
    // kernel, kernelTCP, swappiness, disableOOMKiller and useHierarchy have no v2 file; runc ignores them as well.
  }

  private async applyCpu(c: LinuxCpu): Promise<void> {
    if (c.realtimePeriod || c.realtimeRuntime) {
      throw invalidArgument('INVALID_RESOURCES', 'linux.resources.cpu.realtimePeriod/realtimeRuntime are not supported on cgroup v2');
    }
    if (c.shares) await writeControl(this.dir, 'cpu.weight', sharesToWeight(c.shares));
    const max = cpuMax(c.quota, c.period);
    if (max !== undefined) await writeControl(this.dir, 'cpu.max', max);
    if (c.burst !== undefined) await writeControl(this.dir, 'cpu.max.burst', c.burst);
    if (c.idle) await writeControl(this.dir, 'cpu.idle', c.idle);
    if (c.cpus !== undefined && c.cpus !== '') await writeControl(this.dir, 'cpuset.cpus', checkCpuList(c.cpus, 'cpus'));
    if (c.mems !== undefined && c.mems !== '') await writeControl(this.dir, 'cpuset.mems', checkCpuList(c.mems, 'mems'));
  }

  private async applyIo(b: LinuxBlockIO): Promise<void> {
    const bfq = controlExists(this.dir, 'io.bfq.weight');
    if (b.weight) {
      // io.bfq.weight takes the v1 range (1..1000) as is; io.weight needs converting.
      if (bfq) await writeControl(this.dir, 'io.bfq.weight', b.weight);
      else await writeControl(this.dir, 'io.weight', `default ${blkioWeightToIoWeight(b.weight)}`);
    }
    for (const d of b.weightDevice ?? []) {
      if (!d.weight) continue;
      if (bfq) await writeControl(this.dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
      else await writeControl(this.dir, 'io.weight', `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`);
    }
    const throttles: Array<[string, LinuxBlockIO['throttleReadBpsDevice']]> = [
      ['rbps', b.throttleReadBpsDevice], ['wbps', b.throttleWriteBpsDevice],
      ['riops', b.throttleReadIOPSDevice], ['wiops', b.throttleWriteIOPSDevice],
    ];
    for (const [key, list] of throttles) {
      for (const d of list ?? []) await writeControl(this.dir, 'io.max', `${d.major}:${d.minor} ${key}=${d.rate}`);
    }
  }

  async freeze(): Promise<void> {
    await writeControl(this.dir, 'cgroup.freeze', 1);
    const frozen = await pollUntil(async () => (await this.state()) === 'frozen', 5000, 5);
    if (!frozen) {
      await writeControl(this.dir, 'cgroup.freeze', 0);
      throw new BerthError('internal', 'CGROUP_FREEZE_TIMEOUT', `cgroup ${this.dir} did not freeze within 5s`);
    }
  }

  async thaw(): Promise<void> {
    await writeControl(this.dir, 'cgroup.freeze', 0);
  }

  async state(): Promise<FreezerState> {
    if ((await readControl(this.dir, 'cgroup.freeze')) !== '1') return 'thawed';
    const events = parseKeyValues(await readControl(this.dir, 'cgroup.events'));
    return events.frozen === 1 ? 'frozen' : 'freezing';
  }

  async pids(): Promise<number[]> {
    return await subtreePids(this.dir);
  }

  async oomKills(): Promise<number> {
    return parseKeyValues(await readControl(this.dir, 'memory.events')).oom_kill ?? 0;
  }

  async stats(): Promise<CgroupStats> {
    const read = async (file: string): Promise<string | undefined> => await readControl(this.dir, file);
    const cpu = parseKeyValues(await read('cpu.stat'));
    return {
      memory: {
        usage: parseNumber(await read('memory.current')),
        limit: parseLimit(await read('memory.max')),
        maxUsage: parseLimit(await read('memory.peak')),
        failCount: parseKeyValues(await read('memory.events')).max ?? 0,
        stat: parseKeyValues(await read('memory.stat')),
      },
      cpu: {
        usageNanos: (cpu.usage_usec ?? 0) * 1000,
        userNanos: (cpu.user_usec ?? 0) * 1000,
        systemNanos: (cpu.system_usec ?? 0) * 1000,
        perCpuNanos: [],
        throttling: {
          periods: cpu.nr_periods ?? 0,
          throttledPeriods: cpu.nr_throttled ?? 0,
          throttledNanos: (cpu.throttled_usec ?? 0) * 1000,
        },
      },
      pids: { current: parseNumber(await read('pids.current')), limit: parseLimit(await read('pids.max')) },
      io: parseIoStatV2(await read('io.stat')),
    };
  }

  async killAll(signal: NodeJS.Signals | number): Promise<void> {
    const isKill = signal === 'SIGKILL' || signal === 9;
    if (isKill && controlExists(this.dir, 'cgroup.kill')) {
      await writeControl(this.dir, 'cgroup.kill', 1);
      return;
    }
    if (isKill) await this.freeze();
    try {
      killProcesses(await this.pids(), signal);
    } finally {
      if (isKill) await this.thaw();
    }
  }

  async destroy(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 5000;
    // nearly always: no process left, no child cgroup, no ancestor of ours to remove
    if (removeEmptyDirectoriesNow([this.dir]) && this.made.every((dir) => dir === this.dir)) return;
    await waitUntilEmpty(this, timeoutMs);
    await destroyDirectories([this.dir], [...this.made].reverse(), Date.now() + timeoutMs);
  }
}
