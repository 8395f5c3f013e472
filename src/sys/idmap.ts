// Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP) made by the native helper (idmap.c):
// one helper run creates a user namespace with the given maps and moves an idmapped clone
// of each source onto its target. The caller owns the targets (empty dirs) and unmounts them.
import { startHelper } from './helper.js';
import type { PlanOp } from './plan-writer.js';

/** One line of /proc/<pid>/uid_map: ids [inside, inside+size) are host ids [host, host+size). */
export interface IdRange { containerID: number; hostID: number; size: number }
export interface IdMaps { uidMappings: readonly IdRange[]; gidMappings: readonly IdRange[] }
export interface IdmapTarget { source: string; target: string; recursive?: boolean }

export function formatIdMap(ranges: readonly IdRange[]): string {
  return ranges.map((r) => `${r.containerID} ${r.hostID} ${r.size}\n`).join('');
}

export function idmapPlan(maps: IdMaps, mounts: readonly IdmapTarget[]): PlanOp[] {
  return [
    { op: 'IDMAP_USERNS', strs: [formatIdMap(maps.uidMappings), formatIdMap(maps.gidMappings)] },
    ...mounts.map((m): PlanOp => ({ op: 'IDMAP_MOUNT', ints: [m.recursive ? 1 : 0], strs: [m.source, m.target] })),
    { op: 'DONE' },
  ];
}

/** Mount an idmapped clone of each source on its target; a failure names the step and path. */
export async function mountIdmapped(maps: IdMaps, mounts: readonly IdmapTarget[]): Promise<void> {
  if (mounts.length === 0) return;
  const session = startHelper(idmapPlan(maps, mounts), { stdio: 'null' });
  await session.ready;
  await session.exit;
}
