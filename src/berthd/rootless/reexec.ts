// The outer half of rootless berthd: an unprivileged user's berthd re-executes itself in a
// new user + mount namespace (uid 0 inside = the user, 1..n = the subordinate ids) and then
// only relays signals and the exit status. Everything else, the engine included, runs
// inside as "root in its namespace", so the code paths are those of rootful berthd.
import os from 'node:os';
import { readUserRanges } from '../../daemon/userns/subid-ranges.js';
import { spawnInUserNamespace, type UsernsChild } from '../../sys/userns-spawn.js';
import { ROOTLESS_MIN_SUBIDS, rootlessIdMap } from './id-maps.js';

/** set in the inner berthd's environment; only trusted together with a non-initial user namespace */
export const ROOTLESS_CHILD_ENV = 'BERTH_ROOTLESS_CHILD';

export interface RootlessUser { name: string; uid: number; gid: number }

export function currentUser(): RootlessUser {
  const info = os.userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid };
}

/** Starts the inner berthd and resolves with the exit code to exit with. */
export async function runRootlessParent(argv: readonly string[], user: RootlessUser = currentUser()): Promise<number> {
  const subuids = await readUserRanges('/etc/subuid', user, ROOTLESS_MIN_SUBIDS);
  const subgids = await readUserRanges('/etc/subgid', { name: user.name, uid: user.uid }, ROOTLESS_MIN_SUBIDS);
  const child = await spawnInUserNamespace({
    program: process.execPath,
    args: [...process.execArgv, ...argv],
    env: { ...process.env, [ROOTLESS_CHILD_ENV]: '1' },
    uidMap: rootlessIdMap(user.uid, subuids),
    gidMap: rootlessIdMap(user.gid, subgids),
  });
  return await relayUntilExit(child);
}

async function relayUntilExit(child: UsernsChild): Promise<number> {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];
  const relays = signals.map((signal) => {
    const relay = (): void => { child.kill(signal); };
    process.on(signal, relay);
    return [signal, relay] as const;
  });
  try {
    return await child.exited;
  } finally {
    for (const [name, relay] of relays) process.off(name, relay);
  }
}
