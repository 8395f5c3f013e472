// Turning a writable layer back into a layer tarball (commit, build): an overlayfs upper
// dir is read directly (char 0:0 = whiteout; trusted.overlay.opaque, or user.overlay.opaque
// where overlay was mounted with userxattr in a user namespace = opaque dir); a plain
// directory is compared with its parent tree. Hardlinks, xattrs, owners and modes kept.
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../errors/berth-error.js';
import { getXattr, listXattrs } from '../../sys/fs-native.js';
import { deviceNumbers } from '../../util/device-number.js';
import type { TarEntryType } from '../archive/tar-reader.js';
import { writeTar, type TarWriteEntry, type TarWriteHeader } from '../archive/tar-writer.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './apply-layer.js';
import { isOverlayXattr, TRUSTED_OPAQUE_XATTR, USER_OPAQUE_XATTR } from './overlay-xattrs.js';

/** Host ids of a file -> the ids its layer records (a user-namespaced root's files are shifted back). */
export type OwnerMapping = (uid: number, gid: number) => { uid: number; gid: number };

/** Tar of an overlayfs upper directory, whiteouts converted to the OCI `.wh.` form. */
export function overlayUpperDiff(upper: string, owners?: OwnerMapping): AsyncGenerator<Buffer> {
  return writeTar(owners ? withOwners(walkOverlayUpper(upper), owners) : walkOverlayUpper(upper));
}

async function* withOwners(entries: AsyncIterable<TarWriteEntry>, owners: OwnerMapping): AsyncGenerator<TarWriteEntry> {
  for await (const entry of entries) {
    const ids = owners(entry.header.uid ?? 0, entry.header.gid ?? 0);
    yield { ...entry, header: { ...entry.header, uid: ids.uid, gid: ids.gid } };
  }
}

/** Tar of the changes from `lower` (undefined = empty) to `upper`, both plain trees. */
export function directoryDiff(lower: string | undefined, upper: string): AsyncGenerator<Buffer> {
  return writeTar(walkCompared(lower, upper));
}

/** Tar of a whole tree (export, import of a directory). */
export function directoryTar(root: string): AsyncGenerator<Buffer> {
  return writeTar(walkCompared(undefined, root));
}

function entryType(st: Stats): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets are not archived (Docker skips them too)
}

function xattrsOf(file: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of listXattrs(file).sort()) {
    if (isOverlayXattr(name) || name === 'security.selinux') continue;
    const value = getXattr(file, name);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

class EntryMaker {
  private readonly inodes = new Map<string, string>();

  async make(file: string, rel: string, st: Stats): Promise<TarWriteEntry | undefined> {
    const type = entryType(st);
    if (type === undefined) return undefined;
    const header: TarWriteHeader = {
      name: type === 'dir' ? `${rel}/` : rel,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
      xattrs: xattrsOf(file),
    };
    if (type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      if (first !== undefined) return { header: { ...header, type: 'hardlink', linkname: first, xattrs: new Map() } };
      this.inodes.set(key, rel);
    }
    if (type === 'symlink') header.linkname = await readlink(file);
    if (type === 'char' || type === 'block') {
      const { major, minor } = deviceNumbers(st.rdev);
      Object.assign(header, { devmajor: major, devminor: minor });
    }
    if (type === 'file') {
      header.size = st.size;
      return { header, body: createReadStream(file) };
    }
    return { header };
  }
}

async function sortedNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

function whiteoutEntry(rel: string, mtime: number): TarWriteEntry {
  return { header: { name: rel, type: 'file', mode: 0, size: 0, mtime } };
}

async function* walkOverlayUpper(upper: string): AsyncGenerator<TarWriteEntry> {
  const maker = new EntryMaker();
  async function* walk(dir: string, relDir: string): AsyncGenerator<TarWriteEntry> {
    for (const name of await sortedNames(dir)) {
      const file = path.join(dir, name);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const st = await lstat(file);
      if (st.isCharacterDevice() && st.rdev === 0) {
        yield whiteoutEntry(path.posix.join(relDir, WHITEOUT_PREFIX + name), Math.floor(st.mtimeMs / 1000));
        continue;
      }
      const entry = await maker.make(file, rel, st);
      if (entry !== undefined) yield entry;
      if (st.isDirectory()) {
        if (isOpaqueDir(file)) {
          yield whiteoutEntry(`${rel}/${OPAQUE_WHITEOUT}`, Math.floor(st.mtimeMs / 1000));
        }
        yield* walk(file, rel);
      }
    }
  }
  yield* walk(upper, '');
}

/** An opaque dir of an upper dir, in either of overlay's forms. */
function isOpaqueDir(dir: string): boolean {
  return [TRUSTED_OPAQUE_XATTR, USER_OPAQUE_XATTR].some((name) => xattrOrUndefined(dir, name)?.toString() === 'y');
}

/** A file system without user xattrs (an old tmpfs) cannot have the user form: not an error. */
function xattrOrUndefined(file: string, name: string): Buffer | undefined {
  try {
    return getXattr(file, name);
  } catch (err) {
    if (['EOPNOTSUPP', 'ENOTSUP'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return entryType(a) === entryType(b) && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid
    && a.rdev === b.rdev && (a.isDirectory() || (a.size === b.size && a.mtimeMs === b.mtimeMs));
}

/**
 * Walk `upper`, yielding entries that differ from `lower` plus whiteouts for what `lower`
 * has and `upper` lacks. Unchanged parent directories of a change are included so that
 * their metadata is right when the layer is applied.
 */
async function* walkCompared(lower: string | undefined, upper: string): AsyncGenerator<TarWriteEntry> {
  const maker = new EntryMaker();
  const pending: Array<{ file: string; rel: string; st: Stats; emitted: boolean }> = [];
  async function* flushParents(): AsyncGenerator<TarWriteEntry> {
    for (const p of pending) {
      if (p.emitted) continue;
      p.emitted = true;
      const entry = await maker.make(p.file, p.rel, p.st);
      if (entry !== undefined) yield entry;
    }
  }
  async function* walk(dir: string, relDir: string, lowerDir: string | undefined): AsyncGenerator<TarWriteEntry> {
    const names = await sortedNames(dir);
    if (lowerDir !== undefined) {
      const present = new Set(names);
      for (const name of await sortedNames(lowerDir).catch(() => [] as string[])) {
        if (present.has(name)) continue;
        yield* flushParents();
        yield whiteoutEntry(path.posix.join(relDir, WHITEOUT_PREFIX + name), 0);
      }
    }
    for (const name of names) {
      const file = path.join(dir, name);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const st = await lstat(file);
      const lowerFile = lowerDir === undefined ? undefined : path.join(lowerDir, name);
      const before = lowerFile === undefined ? undefined : await lstat(lowerFile).catch(() => undefined);
      const changed = before === undefined || !sameFile(before, st);
      if (st.isDirectory()) {
        pending.push({ file, rel, st, emitted: false });
        if (changed) yield* flushParents();
        yield* walk(file, rel, before?.isDirectory() === true ? lowerFile : undefined);
        pending.pop();
      } else if (changed) {
        yield* flushParents();
        const entry = await maker.make(file, rel, st);
        if (entry !== undefined) yield entry;
      }
    }
  }
  yield* walk(upper, '', lower);
}
