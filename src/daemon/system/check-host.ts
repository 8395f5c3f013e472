// system check, host side: mounts under the data and exec roots that no running container,
// volume or build explains; cgroups under berth's parent with no running container; runtime
// state of containers that do not run; exec-root directories of containers that do not exist
// and of builds that ended.
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../errors/berth-error.js';
import { mountPoints } from '../../store/snapshots/overlay-snapshotter.js';
import { MNT_DETACH, umount } from '../../sys/fs-native.js';
import { probe, type CheckProbe, type Finding } from './check.js';

export interface HostCheckSources {
  dataRoot: string;
  execRoot: string;
  /** running, paused or restarting: its mounts, cgroup, runtime state and netns are in use */
  isLive(id: string): boolean;
  /** its root is mounted by the containers service (a created container keeps it for its start) */
  holdsRootMount(id: string): boolean;
  /** a record exists (any state) */
  isContainer(id: string): boolean;
  buildsRunning(): number;
  /** <volumes root>/<name>/_data mount points of existing volumes */
  volumeMountpoints(): ReadonlySet<string>;
  /** mounts the store keeps for reuse (idmapped layer clones), not leaks */
  keptMounts?(): ReadonlySet<string>;
  /** the cgroup parent's directory in every hierarchy */
  cgroupParentDirs(): Promise<string[]>;
  runtimes(): Array<{ name: string; list(): Promise<string[]>; remove(id: string): Promise<void> }>;
}

const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** The container id a path under our roots belongs to (a 64-hex segment), if any. */
function containerOf(target: string): string | undefined {
  return target.split('/').find((segment) => CONTAINER_ID.test(segment));
}

function explainsMount(src: HostCheckSources, target: string): boolean {
  const owner = containerOf(target);
  if (owner !== undefined) return src.isLive(owner) || src.holdsRootMount(owner);
  if (src.volumeMountpoints().has(target) || src.keptMounts?.().has(target) === true) return true;
  return src.buildsRunning() > 0 && (target.includes('berth-build-') || target.startsWith(path.join(src.execRoot, 'build') + '/'));
}

async function cgroupProcs(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) if (line.trim() !== '') pids.push(Number(line));
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) pids.push(...await cgroupProcs(path.join(dir, entry.name)));
  }
  return pids;
}

/** Kill what is left in a leaked cgroup, then remove it leaf first. */
async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = await cgroupProcs(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const removeTree = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await removeTree(path.join(d, entry.name));
    }
    try {
      await rmdir(d);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  };
  await removeTree(dir);
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

function mountProbe(src: HostCheckSources): CheckProbe {
  return probe('mounts', async () => {
    const roots = [src.dataRoot, src.execRoot].map((r) => `${path.resolve(r)}/`);
    // deepest first, so nested mounts come off before their parents
    const targets = (await mountPoints()).filter((m) => roots.some((r) => m.startsWith(r))).sort((a, b) => b.length - a.length);
    return [...new Set(targets)].filter((t) => !explainsMount(src, t)).map((target): Finding => ({
      kind: 'mount', resource: target, detail: 'mount under berth\'s roots that no running container, volume or build uses',
      repair: async () => { if (!explainsMount(src, target)) umount(target, MNT_DETACH); },
    }));
  });
}

function cgroupProbe(src: HostCheckSources): CheckProbe {
  return probe('cgroups', async () => {
    const out: Finding[] = [];
    for (const parent of await src.cgroupParentDirs()) {
      for (const name of await subdirs(parent)) {
        if (CONTAINER_ID.test(name) ? src.isLive(name) : src.buildsRunning() > 0) continue;
        const dir = path.join(parent, name);
        out.push({ kind: 'cgroup', resource: dir, detail: 'cgroup under berth\'s parent with no running container (processes in it are killed on repair)',
          repair: async () => { if (!src.isLive(name)) await removeCgroup(dir); } });
      }
    }
    return out;
  });
}

function stateProbe(src: HostCheckSources): CheckProbe {
  return probe('exec-root', async () => {
    const out: Finding[] = [];
    for (const runtime of src.runtimes()) {
      for (const id of await runtime.list().catch(() => [] as string[])) {
        if (src.isLive(id)) continue;
        out.push({ kind: 'runtime-state', resource: `${runtime.name}:${id}`, detail: `runtime state of a container that is not running`,
          repair: async () => { if (!src.isLive(id)) await runtime.remove(id); } });
      }
    }
    const bundles = path.join(src.execRoot, 'containers');
    for (const name of await subdirs(bundles)) {
      if (src.isContainer(name)) continue;
      const dir = path.join(bundles, name);
      out.push({ kind: 'state-dir', resource: dir, detail: 'bundle of a container that does not exist',
        repair: async () => { if (!src.isContainer(name)) await rm(dir, { recursive: true, force: true }); } });
    }
    if (src.buildsRunning() === 0) {
      for (const part of ['bundles', 'contexts']) {
        const parent = path.join(src.execRoot, 'build', part);
        for (const name of await readdir(parent).catch(() => [] as string[])) {
          const dir = path.join(parent, name);
          out.push({ kind: 'state-dir', resource: dir, detail: `build ${part.slice(0, -1)} left by a build that ended`,
            repair: async () => { if (src.buildsRunning() === 0) await rm(dir, { recursive: true, force: true }); } });
        }
      }
    }
    return out;
  });
}

/** Runtime state first (its delete kills what still runs), then cgroups, then mounts (before snapshot dirs go). */
export function hostProbes(src: HostCheckSources): CheckProbe[] {
  return [stateProbe(src), cgroupProbe(src), mountProbe(src)];
}
