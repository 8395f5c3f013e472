// `--chown=user:group` and USER names, looked up in the image's own /etc/passwd and
// /etc/group (never the host's), as docker does.
import { readFile } from 'node:fs/promises';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { resolveInRoot } from '../context/root-path.js';

export interface Owner { uid: number; gid: number }

async function readDatabase(root: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(await resolveInRoot(root, file), 'utf8');
    return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

const isNumeric = (s: string): boolean => /^\d+$/.test(s);
const MAX_ID = 2 ** 32 - 2;

function numeric(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (n > MAX_ID) throw invalidArgument('BUILD_BAD_CHOWN', `${what} ${text} in "${spec}" is out of range`);
  return n;
}

/** Parse `user[:group]` against the root's databases; a bare user uses its primary group (or the uid). */
export async function resolveOwner(root: string, spec: string): Promise<Owner> {
  if (spec === '') throw invalidArgument('BUILD_BAD_CHOWN', 'empty --chown value');
  const [user = '', group, ...extra] = spec.split(':');
  if (extra.length > 0 || user === '' || group === '') throw invalidArgument('BUILD_BAD_CHOWN', `invalid --chown "${spec}": want user[:group]`);
  let uid: number;
  let primaryGid: number | undefined;
  if (isNumeric(user)) {
    uid = numeric(user, 'uid', spec);
  } else {
    const entry = (await readDatabase(root, '/etc/passwd')).find((f) => f[0] === user);
    if (!entry) throw invalidArgument('BUILD_BAD_CHOWN', `unable to find user ${user}: no matching entries in passwd file`);
    uid = Number(entry[2]);
    primaryGid = Number(entry[3]);
  }
  if (group === undefined) return { uid, gid: primaryGid ?? uid };
  if (isNumeric(group)) return { uid, gid: numeric(group, 'gid', spec) };
  const entry = (await readDatabase(root, '/etc/group')).find((f) => f[0] === group);
  if (!entry) throw invalidArgument('BUILD_BAD_CHOWN', `unable to find group ${group}: no matching entries in group file`);
  return { uid, gid: Number(entry[2]) };
}

/** Parse `--chmod` (octal only, as the classic builder and BuildKit accept). */
export function parseChmod(spec: string): number {
  if (!/^[0-7]{3,4}$/.test(spec)) throw invalidArgument('BUILD_BAD_CHMOD', `invalid --chmod "${spec}": want an octal mode such as 755`);
  return parseInt(spec, 8);
}
