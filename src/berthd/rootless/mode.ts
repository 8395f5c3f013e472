// Which berthd this process is: rootful (real root), the outer rootless one (an ordinary
// user, about to re-execute itself in a user namespace) or the inner rootless one.
export type DaemonMode = 'rootful' | 'rootless-parent' | 'rootless-child';

/** /proc/self/uid_map of the initial user namespace: everything mapped to itself */
export function isInitialUserNamespace(uidMap: string): boolean {
  const lines = uidMap.trim().split('\n').map((l) => l.trim().split(/\s+/));
  return lines.length === 1 && lines[0]?.join(' ') === '0 0 4294967295';
}

export function daemonMode(uid: number, childMarker: string | undefined, uidMap: string): DaemonMode {
  if (uid !== 0) return 'rootless-parent';
  // the marker alone proves nothing: real root with it set in the environment stays rootful
  return childMarker === '1' && !isInitialUserNamespace(uidMap) ? 'rootless-child' : 'rootful';
}
