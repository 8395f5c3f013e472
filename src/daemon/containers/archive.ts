// `docker cp` and `docker export`: tar streams of paths resolved inside the container root
// (symlinks never lead out of it), extraction that refuses to write through symlinks.
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar';
import { errnoCode, invalidArgument, notFound } from '../../errors/berth-error.js';
import { resolveInRoot } from './root-path.js';

export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits, which the docker CLI decodes */
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

export function goFileMode(unixMode: number): number {
  let mode = unixMode & 0o777;
  const type = unixMode & 0o170000;
  if (type === 0o040000) mode += GO_DIR;
  else if (type === 0o120000) mode += GO_SYMLINK;
  else if (type === 0o010000) mode += GO_PIPE;
  else if (type === 0o140000) mode += GO_SOCKET;
  else if (type === 0o020000) mode += GO_DEVICE + GO_CHARDEV;
  else if (type === 0o060000) mode += GO_DEVICE;
  if (unixMode & 0o4000) mode += GO_SETUID;
  if (unixMode & 0o2000) mode += GO_SETGID;
  if (unixMode & 0o1000) mode += GO_STICKY;
  return mode;
}

/** the host path of `inner`; the last component is not followed (as docker's stat) */
async function locate(root: string, inner: string): Promise<string> {
  if (inner.includes('\0')) throw invalidArgument('BAD_PATH', 'path contains a nul byte');
  const followLast = inner.endsWith('/') || inner.endsWith('/.');
  return await resolveInRoot(root, inner, followLast);
}

export async function statPath(root: string, inner: string): Promise<PathStat> {
  const hostPath = await locate(root, inner);
  try {
    const info = await lstat(hostPath);
    return {
      name: path.basename(inner.replace(/\/+\.?$/, '')) || '/',
      size: info.size,
      mode: goFileMode(info.mode),
      mtime: info.mtime.toISOString(),
      linkTarget: info.isSymbolicLink() ? await readlink(hostPath) : '',
    };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') {
      throw notFound('NO_SUCH_PATH', `Could not find the file ${inner} in container`);
    }
    throw err;
  }
}

/** A tar of `inner` whose single top entry is its base name (what `docker cp` expects). */
export async function archivePath(root: string, inner: string): Promise<{ stat: PathStat; tar: Readable }> {
  const stat = await statPath(root, inner);
  const hostPath = await locate(root, inner);
  const isRoot = hostPath === root || hostPath === `${root}/`;
  const cwd = isRoot ? root : path.dirname(hostPath);
  const entries = isRoot ? await readdir(root) : [path.basename(hostPath)];
  return { stat, tar: packEntries(cwd, entries) };
}

export async function exportRootfs(root: string): Promise<Readable> {
  return packEntries(root, (await readdir(root)).sort());
}

/**
 * A tar stream of `entries` under `cwd`. Destroying it (the client went away) skips every entry
 * not yet started and drains the one being read, so its open file is closed (else it would be
 * held open, and the root busy, for as long as berthd runs).
 */
function packEntries(cwd: string, entries: string[]): Readable {
  const out = new PassThrough();
  let abandoned = false;
  const pack = tar.c({ cwd, portable: false, follow: false, noDirRecurse: false, filter: () => !abandoned }, entries);
  pack.on('error', (err: unknown) => { out.destroy(err instanceof Error ? err : new Error(String(err))); });
  out.once('close', () => {
    if (out.readableEnded) return;
    abandoned = true;
    pack.unpipe(out);
    pack.resume();
  });
  pack.pipe(out);
  return out;
}

/** Extract a tar into the directory `inner` of the root. */
export async function extractInto(root: string, inner: string, archive: Readable, options: { copyUIDGID: boolean }): Promise<void> {
  const dir = await resolveInRoot(root, inner);
  let info;
  try {
    info = await lstat(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound('NO_SUCH_PATH', `Could not find the file ${inner} in container`);
    throw err;
  }
  if (!info.isDirectory()) throw invalidArgument('NOT_A_DIRECTORY', `extraction point is not a directory: ${inner}`);
  await new Promise<void>((resolve, reject) => {
    const unpack = tar.x({ cwd: dir, preserveOwner: options.copyUIDGID, preservePaths: false, strict: true, noChmod: false });
    unpack.on('error', (err: Error) => reject(invalidArgument('BAD_ARCHIVE', `cannot extract archive into ${inner}: ${err.message}`, { cause: err })));
    unpack.on('close', () => resolve());
    unpack.on('finish', () => resolve());
    archive.on('error', reject);
    archive.pipe(unpack);
  });
}

/** docker diff from a layer tar of the container's changes: 0 modified, 1 added, 2 deleted */
export async function changesFromDiff(diff: AsyncIterable<Uint8Array>): Promise<Array<{ Path: string; Kind: number }>> {
  const changes = new Map<string, number>();
  const parser = new tar.Parser({
    onReadEntry: (entry) => {
      const name = `/${entry.path.replace(/^\.?\/+/, '').replace(/\/$/, '')}`;
      const base = path.posix.basename(name);
      if (base === '.wh..wh..opq') changes.set(path.posix.dirname(name), 0);
      else if (base.startsWith('.wh.')) changes.set(path.posix.join(path.posix.dirname(name), base.slice(4)), 2);
      else if (name !== '/') changes.set(name, entry.type === 'Directory' ? 0 : 1);
      entry.resume();
    },
  });
  for await (const chunk of diff) parser.write(Buffer.from(chunk));
  await new Promise<void>((resolve) => { parser.end(() => resolve()); });
  // mount points the runtime creates are not changes (dockerd keeps them in an init layer)
  for (const changed of [...changes.keys()]) if (isRuntimeMountPoint(changed)) changes.delete(changed);
  // every parent of a change shows as modified
  for (const changed of [...changes.keys()]) {
    for (let dir = path.posix.dirname(changed); dir !== '/'; dir = path.posix.dirname(dir)) {
      if (!changes.has(dir)) changes.set(dir, 0);
    }
  }
  return [...changes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([Path, Kind]) => ({ Path, Kind }));
}

const MOUNT_POINTS = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/sbin/docker-init', '/dev', '/proc', '/sys', '/.dockerenv']);

function isRuntimeMountPoint(p: string): boolean {
  return MOUNT_POINTS.has(p) || p.startsWith('/dev/') || p.startsWith('/proc/') || p.startsWith('/sys/');
}
