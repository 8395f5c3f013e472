// OCI idmapped mounts (runtime-spec 1.2: the "idmap" and "ridmap" mount options, with the
// mount's own uidMappings/gidMappings or else the container's): the helper makes each an
// idmapped clone of its source before CLONE, as root of the host, and keeps it detached
// (IDMAP_TREE); the container process attaches it at its destination (IDMAP_ATTACH). So
// files owned by host uid N show up as N inside a container whose uid N is another host id,
// and files it writes there are written back as N. Bind mounts only, as in runc.
import path from 'node:path';
import { BerthError, invalidArgument } from '../errors/berth-error.js';
import type { IDMapping, Mount, Spec } from '../oci/runtime-spec.js';
import { formatIdMap } from '../sys/idmap.js';
import type { PlanOp } from '../sys/plan-writer.js';

export type IdmapOption = 'idmap' | 'ridmap';

/** The idmap option of a mount, if it has one. */
export function idmapOption(mount: Mount): IdmapOption | undefined {
  const options = mount.options ?? [];
  return options.includes('ridmap') ? 'ridmap' : options.includes('idmap') ? 'idmap' : undefined;
}

export interface IdmappedMountsPlan {
  /** IDMAP_USERNS / IDMAP_TREE ops, to run before CLONE */
  preClone: PlanOp[];
  /** mount index -> slot of its detached tree */
  slots: Map<number, number>;
}

function mappingsOf(mount: Mount, spec: Spec, field: string): { uid: IDMapping[]; gid: IDMapping[] } {
  const ownsUserNs = spec.linux?.namespaces?.some((ns) => ns.type === 'user' && !ns.path) === true;
  const uid = mount.uidMappings ?? (ownsUserNs ? spec.linux?.uidMappings : undefined);
  const gid = mount.gidMappings ?? (ownsUserNs ? spec.linux?.gidMappings : undefined);
  if (!uid?.length || !gid?.length) {
    throw invalidArgument('IDMAP_WITHOUT_MAPPINGS', `${field}: an idmapped mount needs uidMappings and gidMappings, or a container in a user namespace of its own (--userns=auto)`);
  }
  return { uid, gid };
}

/** The pre-clone part of every idmapped mount of the spec (none: no ops). */
export function planIdmappedMounts(spec: Spec, bundleDir: string): IdmappedMountsPlan {
  const plan: IdmappedMountsPlan = { preClone: [], slots: new Map() };
  let lastMaps = '';
  (spec.mounts ?? []).forEach((mount, index) => {
    const option = idmapOption(mount);
    if (option === undefined) return;
    const field = `mounts[${index}]`;
    const options = mount.options ?? [];
    if (mount.type !== 'bind' && !options.includes('bind') && !options.includes('rbind')) {
      throw new BerthError('not_implemented', 'IDMAP_MOUNT_TYPE', `${field}: idmapped mounts of type ${mount.type ?? 'none'} are not supported (bind mounts only)`);
    }
    if (!mount.source) throw invalidArgument('MOUNT_SOURCE_MISSING', `${field}.source: a bind mount needs a source`);
    const maps = mappingsOf(mount, spec, field);
    const text = [formatIdMap(maps.uid), formatIdMap(maps.gid)];
    if (text.join('|') !== lastMaps) plan.preClone.push({ op: 'IDMAP_USERNS', strs: text });
    lastMaps = text.join('|');
    const slot = plan.slots.size;
    const recursive = option === 'ridmap' || options.includes('rbind');
    plan.preClone.push({ op: 'IDMAP_TREE', ints: [slot, recursive ? 1 : 0], strs: [path.resolve(bundleDir, mount.source)] });
    plan.slots.set(index, slot);
  });
  return plan;
}
