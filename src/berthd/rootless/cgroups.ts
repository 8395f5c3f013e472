// Cgroup limits for rootless berthd: only where the user owns a delegated cgroup v2 subtree
// (systemd's Delegate=yes). Anywhere else (cgroup v1, or a v2 tree the user cannot write)
// containers run without a cgroup of their own and limits are refused with a warning, as
// rootless dockerd does.
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { notFound } from '../../errors/berth-error.js';
import type { CgroupHandle, CgroupManager, CgroupVersion, FreezerState } from '../../runtime/cgroups/manager.js';

/** what the machine offers the user, read by probeCgroups() */
export interface CgroupProbe {
  /** 2 when /sys/fs/cgroup is a cgroup2 mount (unified), else 1 */
  version: CgroupVersion;
  /** the parent of berthd's own v2 cgroup (where container groups would go) is writable */
  delegatedWritable: boolean;
  /** controllers enabled for children there (cgroup.subtree_control) */
  controllers: readonly string[];
}

export interface CgroupDecision {
  useCgroups: boolean;
  /** docker's names of what containers cannot have: memory, cpu, pids, io, freezer (pause) */
  limited: string[];
  /** said at start and with every create that asks for a limit; undefined when nothing is limited */
  warning: string | undefined;
}

const WANTED: ReadonlyArray<[controller: string, feature: string]> = [['memory', 'memory'], ['cpu', 'cpu'], ['pids', 'pids'], ['io', 'io']];

export function decideRootlessCgroups(probe: CgroupProbe): CgroupDecision {
  if (probe.version !== 2 || !probe.delegatedWritable) {
    const why = probe.version !== 2
      ? 'the host uses cgroup v1, which cannot be delegated to a user'
      : 'the user has no writable (delegated) cgroup v2 subtree';
    return {
      useCgroups: false,
      limited: ['memory', 'cpu', 'pids', 'io', 'freezer'],
      warning: `rootless: resource limits are not available (${why}); --memory, --cpus, --pids-limit, --blkio-weight and pause are ignored or refused. `
        + 'Run berthd in a systemd user service with Delegate=yes on a cgroup v2 host to get them.',
    };
  }
  const limited = WANTED.filter(([controller]) => !probe.controllers.includes(controller)).map(([, feature]) => feature);
  return {
    useCgroups: true,
    limited,
    warning: limited.length > 0 ? `rootless: the delegated cgroup lacks the ${limited.join(', ')} controller(s); those limits are ignored` : undefined,
  };
}

/** Reads what decideRootlessCgroups needs from /proc/self and /sys/fs/cgroup. */
export async function probeCgroups(root = '/sys/fs/cgroup'): Promise<CgroupProbe> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const unified = mountinfo.split('\n').some((line) => {
    const [before, after] = line.split(' - ');
    return before?.split(' ')[4] === root && after?.startsWith('cgroup2 ');
  });
  if (!unified) return { version: 1, delegatedWritable: false, controllers: [] };
  const own = /^0::(\/.*)$/m.exec(await readFile('/proc/self/cgroup', 'utf8').catch(() => ''))?.[1] ?? '/';
  const parent = path.join(root, path.posix.dirname(own));
  const writable = await access(parent, constants.W_OK).then(() => true, () => false);
  const controllers = (await readFile(path.join(parent, 'cgroup.subtree_control'), 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
  return { version: 2, delegatedWritable: writable, controllers };
}

/**
 * The cgroup manager of a rootless berthd without delegation: containers get no cgroup
 * (open() says not_found, so the runtime signals the container's init directly, whose
 * death ends its pid namespace) and resources are not applied.
 */
export class NoCgroupManager implements CgroupManager {
  readonly root = '/sys/fs/cgroup';
  constructor(readonly version: CgroupVersion) {}

  async create(cgroupsPath: string): Promise<CgroupHandle> {
    await Promise.resolve();
    return unmanagedHandle(cgroupsPath, this.version);
  }

  async open(cgroupsPath: string): Promise<CgroupHandle> {
    await Promise.resolve();
    throw notFound('CGROUP_NOT_FOUND', `cgroup ${cgroupsPath} does not exist: rootless berthd runs containers without cgroups here`);
  }

  async directoriesOf(): Promise<Record<string, string>> {
    await Promise.resolve();
    return {};
  }
}

function unmanagedHandle(cgroupsPath: string, version: CgroupVersion): CgroupHandle {
  const unavailable = async (): Promise<never> => {
    await Promise.resolve();
    throw notFound('CGROUP_NOT_FOUND', `cgroup ${cgroupsPath}: rootless berthd runs containers without cgroups here`);
  };
  // a plain object first: the interface is still growing (oomKills), extra members are fine
  const handle = {
    path: cgroupsPath, version, directories: {},
    addProcess: async () => { await Promise.resolve(); },
    applyResources: async () => { await Promise.resolve(); },
    freeze: unavailable, thaw: unavailable, state: async (): Promise<FreezerState> => { await Promise.resolve(); return 'thawed'; },
    pids: async () => { await Promise.resolve(); return []; },
    stats: unavailable, killAll: unavailable,
    oomKills: async () => { await Promise.resolve(); return 0; },
    destroy: async () => { await Promise.resolve(); },
  };
  return handle;
}
