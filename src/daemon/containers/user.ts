// `User` of a container ("name", "uid", "name:group", "uid:gid") resolved against the
// image's /etc/passwd and /etc/group, read through resolveInRoot. A root nothing has written
// to yet holds its image's files: those are read once per image (ImageUserDatabases).
import { readFile } from 'node:fs/promises';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { BoundedMap } from '../../util/bounded-map.js';
import { resolveInRoot } from './root-path.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

/** A root's /etc/passwd and /etc/group, parsed (a missing file is an empty list). */
export interface UserDatabase { passwd: readonly PasswdEntry[]; groups: readonly GroupEntry[] }

async function readRootFile(root: string, file: string): Promise<string> {
  try {
    return await readFile(await resolveInRoot(root, file), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return '';
    throw err;
  }
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').map((line) => line.split(':')).filter((f) => f.length >= 6 && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? ''))
    .map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').map((line) => line.split(':')).filter((f) => f.length >= 3 && /^\d+$/.test(f[2] ?? ''))
    .map((f) => ({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

export async function readUserDatabase(root: string): Promise<UserDatabase> {
  const [passwdText, groupText] = await Promise.all([readRootFile(root, '/etc/passwd'), readRootFile(root, '/etc/group')]);
  return { passwd: parsePasswd(passwdText), groups: parseGroup(groupText) };
}

export async function resolveUser(root: string, user: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  return lookupUser(await readUserDatabase(root), user, groupAdd);
}

/**
 * The user databases of images, read from the first container root made of each: a root no
 * run or copy has written to yet holds exactly its image's files (image ids name their
 * content, so an entry never goes stale; the oldest goes when the map is full).
 */
export class ImageUserDatabases {
  private readonly byImage = new BoundedMap<string, Promise<UserDatabase>>(64);

  /** `pristine`: nothing has written to `root` since it was made from `imageId` */
  async read(imageId: string, root: string, pristine: boolean): Promise<UserDatabase> {
    if (!pristine) return await readUserDatabase(root);
    const known = this.byImage.get(imageId);
    if (known) return await known;
    const reading = readUserDatabase(root);
    this.byImage.set(imageId, reading);
    // a failed read is not kept: the next start reads again
    reading.catch(() => { if (this.byImage.get(imageId) === reading) this.byImage.delete(imageId); });
    return await reading;
  }
}

export function lookupUser(db: UserDatabase, user: string, groupAdd: readonly string[] = []): ResolvedUser {
  const [userPart = '', groupPart] = user === '' ? ['0'] : user.split(':');
  const { passwd, groups } = db;
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw invalidArgument('NO_SUCH_USER', `unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') gid = lookupGroup(groups, groupPart);
  // as runc's GetExecUser under dockerd: the primary group is a supplementary one too, and the
  // /etc/group memberships count only when no group was named ("uid:gid" means that group alone)
  const supplementary = new Set<number>([gid]);
  const name = entry?.name;
  const named = groupPart !== undefined && groupPart !== '';
  if (name !== undefined && !named) for (const g of groups) if (g.members.includes(name)) supplementary.add(g.gid);
  for (const extra of groupAdd) supplementary.add(lookupGroup(groups, extra));
  return { uid, gid, additionalGids: [...supplementary], home: entry?.home ?? '/' };
}

function lookupGroup(groups: readonly GroupEntry[], group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const found = groups.find((g) => g.name === group);
  if (!found) throw invalidArgument('NO_SUCH_GROUP', `unable to find group ${group}: no matching entries in group file`);
  return found.gid;
}
