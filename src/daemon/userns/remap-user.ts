// The remap user of --userns-remap=default|USER[:GROUP], as dockerd has it: its
// subordinate id ranges are where containers' ids come from. "default" is berthremap
// (dockerd's dockremap), created with subuid/subgid entries when missing.
import { appendFile, readFile } from 'node:fs/promises';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import { parseSubidFile } from './subid-ranges.js';

export const DEFAULT_REMAP_USER = 'berthremap';
/** ids reserved for berthremap when berth creates its entries: 1024 containers of 65536 */
export const DEFAULT_REMAP_COUNT = 65536 * 1024;

export interface RemapUser { name: string; uid: number; group: string; gid: number }
export interface AccountFiles { passwd: string; group: string; subuid: string; subgid: string }
export const SYSTEM_ACCOUNT_FILES: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' };

export function parseRemapSpec(spec: string): { user: string; group: string | undefined; isDefault: boolean } {
  if (spec === 'default') return { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER, isDefault: true };
  const match = /^([a-z_0-9][a-z0-9_.-]*\$?)(?::([a-z_0-9][a-z0-9_.-]*))?$/i.exec(spec);
  if (!match) throw invalidArgument('BAD_USERNS_REMAP', `invalid --userns-remap "${spec}": expected default, USER or USER:GROUP`);
  return { user: match[1] as string, group: match[2], isDefault: false };
}

/** name:x:id:... lines of /etc/passwd or /etc/group -> the entry named (or numbered) `key`. */
export function findAccount(text: string, key: string): { name: string; id: number; gid: number } | undefined {
  for (const line of text.split('\n')) {
    const [name = '', , id = '', gid = ''] = line.split(':');
    if (name !== '' && (name === key || id === key) && /^\d+$/.test(id)) return { name, id: Number(id), gid: Number(gid) };
  }
  return undefined;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return '';
    throw err;
  }
}

/** The user (and group) of the spec; "default" creates berthremap when it is missing. */
export async function resolveRemapUser(spec: string, files: AccountFiles = SYSTEM_ACCOUNT_FILES): Promise<RemapUser> {
  const wanted = parseRemapSpec(spec);
  let user = findAccount(await readText(files.passwd), wanted.user);
  if (!user && wanted.isDefault) {
    await runProgram('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', DEFAULT_REMAP_USER]);
    user = findAccount(await readText(files.passwd), wanted.user);
  }
  if (!user) throw invalidArgument('NO_SUCH_REMAP_USER', `--userns-remap: user "${wanted.user}" does not exist`, { hint: `create it (useradd ${wanted.user}) or use --userns-remap=default` });
  const groupKey = wanted.group ?? String(user.gid);
  const group = findAccount(await readText(files.group), groupKey);
  if (!group) throw invalidArgument('NO_SUCH_REMAP_GROUP', `--userns-remap: group "${groupKey}" does not exist`);
  return { name: user.name, uid: user.id, group: group.name, gid: group.id };
}

/** First id after every range of the file (at least 100000, as shadow-utils starts), aligned to 65536. */
export function nextFreeStart(text: string, file: string): number {
  let end = 100000;
  for (const ranges of parseSubidFile(text, file).values()) for (const r of ranges) end = Math.max(end, r.start + r.count);
  return Math.ceil(end / 65536) * 65536;
}

/** dockerd's default: give `name` a range in the subuid/subgid file when it has none. */
export async function ensureSubidEntry(file: string, name: string, uid: number, count = DEFAULT_REMAP_COUNT): Promise<void> {
  const text = await readText(file);
  const entries = parseSubidFile(text, file);
  if (entries.has(name) || entries.has(String(uid))) return;
  const start = nextFreeStart(text, file);
  if (start + count > 2 ** 32 - 1) throw invalidArgument('SUBID_SPACE_FULL', `${file}: no room left for ${count} subordinate ids for ${name}`);
  await appendFile(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}${name}:${start}:${count}\n`, { mode: 0o644 });
}
