// Which resource limits the host's cgroups can apply, read once at daemon start the way dockerd's
// sysinfo does (cgroup v1: a control file per limit in the controller's hierarchy; v2: the
// controllers the hierarchy offers). The container service drops, with dockerd's warning, a limit
// asked for that is not supported (daemon/containers/resource-fit.ts).
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupManager } from '../runtime/cgroups/manager.js';
import type { ResourceSupport } from '../daemon/containers/resource-fit.js';

/** A name below each hierarchy's top, only to find the hierarchies (nothing is made). */
const PROBE_PATH = '/berth-support-probe';

export async function probeResourceSupport(manager: CgroupManager): Promise<ResourceSupport> {
  const directories = await manager.directoriesOf(PROBE_PATH);
  const top = (controller: string): string | undefined => {
    const dir = directories[controller];
    return dir === undefined ? undefined : path.posix.dirname(dir);
  };
  if (manager.version === 2) {
    const root = top('unified') ?? manager.root;
    const controllers = new Set(((await readText(path.posix.join(root, 'cgroup.controllers'))) ?? '').split(/\s+/).filter(Boolean));
    return supportV2(controllers, await readText(path.posix.join(root, 'cpuset.cpus.effective')), await readText(path.posix.join(root, 'cpuset.mems.effective')));
  }
  const has = async (controller: string, file: string): Promise<boolean> => {
    const dir = top(controller);
    return dir !== undefined && await access(path.posix.join(dir, file)).then(() => true, () => false);
  };
  const cpusetDir = top('cpuset');
  return {
    memoryLimit: await has('memory', 'memory.limit_in_bytes'),
    swapLimit: await has('memory', 'memory.memsw.limit_in_bytes'),
    memoryReservation: await has('memory', 'memory.soft_limit_in_bytes'),
    oomKillDisable: await has('memory', 'memory.oom_control'),
    memorySwappiness: await has('memory', 'memory.swappiness'),
    kernelMemory: await has('memory', 'memory.kmem.limit_in_bytes'),
    cpuShares: await has('cpu', 'cpu.shares'),
    cpuCfs: await has('cpu', 'cpu.cfs_quota_us'),
    cpuset: cpusetDir !== undefined,
    blkioWeight: await has('blkio', 'blkio.weight'),
    blkioWeightDevice: await has('blkio', 'blkio.weight_device'),
    blkioReadBps: await has('blkio', 'blkio.throttle.read_bps_device'),
    blkioWriteBps: await has('blkio', 'blkio.throttle.write_bps_device'),
    blkioReadIOps: await has('blkio', 'blkio.throttle.read_iops_device'),
    blkioWriteIOps: await has('blkio', 'blkio.throttle.write_iops_device'),
    // the top of the hierarchy has no pids.max: dockerd looks for the mount only
    pidsLimit: top('pids') !== undefined,
    ...optional('cpus', cpusetDir === undefined ? undefined : await readText(path.posix.join(cpusetDir, 'cpuset.effective_cpus'))),
    ...optional('mems', cpusetDir === undefined ? undefined : await readText(path.posix.join(cpusetDir, 'cpuset.effective_mems'))),
  };
}

/** cgroup v2 as dockerd 20.10 sees it: no swappiness, no OOM-killer switch, no kernel memory. */
export function supportV2(controllers: ReadonlySet<string>, cpus: string | undefined, mems: string | undefined): ResourceSupport {
  const memory = controllers.has('memory');
  const cpu = controllers.has('cpu');
  const io = controllers.has('io');
  const cpuset = controllers.has('cpuset');
  return {
    memoryLimit: memory, swapLimit: memory, memoryReservation: memory, oomKillDisable: false, memorySwappiness: false, kernelMemory: false,
    cpuShares: cpu, cpuCfs: cpu, cpuset,
    blkioWeight: io, blkioWeightDevice: io, blkioReadBps: io, blkioWriteBps: io, blkioReadIOps: io, blkioWriteIOps: io,
    pidsLimit: controllers.has('pids'),
    ...(cpuset ? optional('cpus', cpus) : {}), ...(cpuset ? optional('mems', mems) : {}),
  };
}

function optional(key: 'cpus' | 'mems', value: string | undefined): { cpus?: string; mems?: string } {
  return value === undefined || value === '' ? {} : { [key]: value };
}

async function readText(file: string): Promise<string | undefined> {
  return await readFile(file, 'utf8').then((text) => text.trim(), () => undefined);
}
