// The id maps of rootless berthd's user namespace: uid 0 inside is the user, 1..n are the
// user's subordinate ids from /etc/subuid (/etc/subgid for groups), in file order.
import type { SubidRange } from '../../daemon/userns/subid-ranges.js';
import type { NamespaceIdMap } from '../../sys/userns-spawn.js';

/** ids a container image commonly needs: 0..65535 (nobody is 65534) */
export const ROOTLESS_MIN_SUBIDS = 65536;

export function rootlessIdMap(ownId: number, ranges: readonly SubidRange[]): NamespaceIdMap[] {
  const map: NamespaceIdMap[] = [{ inside: 0, outside: ownId, count: 1 }];
  let next = 1;
  for (const range of ranges) {
    // the user's own id inside a subordinate range would be mapped twice: the kernel refuses that
    if (ownId >= range.start && ownId < range.start + range.count) continue;
    map.push({ inside: next, outside: range.start, count: range.count });
    next += range.count;
  }
  return map;
}

/** how many ids the namespace has (for `info` and the error when a big id does not fit) */
export function mappedIdCount(map: readonly NamespaceIdMap[]): number {
  return map.reduce((sum, m) => sum + m.count, 0);
}
