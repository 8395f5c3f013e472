// Applying a layer tarball to a directory. The tar comes from strangers: every path is
// cleaned and checked (no "..", no absolute paths, no parent that is a symlink, hardlinks
// only to files inside the root), devices only when allowed, and whiteouts become either
// overlayfs' own form (char 0:0, trusted.overlay.opaque) or deletions.
// The file system calls are synchronous on purpose: each is a few microseconds, and a
// thread-pool round trip per call made unpacking ten times slower than GNU tar. With cores
// to spare, regular files (most of a layer's work) go to worker threads
// (apply-layer-writers.ts), written in parallel with this thread's hashing and parsing.
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, getXattr, mknod, setXattr } from '../../sys/fs-native.js';
import { LayerFileWriters, type FileWrite } from './apply-layer-writers.js';
import { cleanEntryPath, readTar, DEFAULT_TAR_LIMITS, type TarHeader, type TarLimits } from '../archive/tar-reader.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ApplyOptions {
  /** 'overlay': whiteouts become char 0:0 / opaque xattr (layer dirs of the overlay
   *  snapshotter); 'remove': whiteouts delete from the tree below (copying snapshotter). */
  whiteouts: 'overlay' | 'remove';
  /** the xattr that marks an opaque dir for overlay (default trusted.overlay.opaque; user.overlay.opaque where overlay is mounted with userxattr) */
  opaqueXattr?: string;
  /** device nodes in layers (Docker allows them when running as root) */
  allowDevices?: boolean;
  limits?: TarLimits;
  /** worker threads that write regular files (default 2 with 4 or more cores, else 0: all on the calling thread) */
  writerThreads?: number;
  /** wait for the writer threads before the first file (tests; otherwise files are written here until they are up) */
  awaitWriters?: boolean;
}

export interface ApplyResult {
  entries: number;
  /** bytes of file content written */
  size: number;
}

const isRoot = process.getuid?.() === 0;
const EUID = process.geteuid?.() ?? -1;
const EGID = process.getegid?.() ?? -1;
/** The process umask, read without changing it (process.umask() sets it twice); undefined when unknown. */
const UMASK = readUmask();
/**
 * Writer threads only where cores are left over: this thread and zlib's keep two busy, and on
 * a 2-core machine the writers measured slower than writing here (more CPU, no idle core).
 */
const DEFAULT_WRITER_THREADS = availableParallelism() >= 4 ? 2 : 0;

// What a new file inherits from its directory besides what open(2) is told: the group of a
// setgid directory, the mode from a default ACL. Unknown for directories this apply did not make.
const SETGID = 1;
const DEFAULT_ACL = 2;
const FOREIGN = 4;
const DEFAULT_ACL_XATTR = 'system.posix_acl_default';

/** Apply an uncompressed layer tar stream to `root` (which must exist). */
export async function applyLayer(root: string, tar: AsyncIterable<Uint8Array>, options: ApplyOptions): Promise<ApplyResult> {
  const threads = options.writerThreads ?? DEFAULT_WRITER_THREADS;
  const writers = threads > 0 ? new LayerFileWriters(threads) : undefined;
  const fresh = readdirSync(root).length === 0;
  const state: ApplyState = {
    root, options, writers, fresh, rootTraits: dirTraits(root, fresh), seen: new Set(), made: new Set(), pending: new Set(),
    knownDirs: new Map(), dirTimes: [], entries: 0, size: 0,
  };
  try {
    if (writers !== undefined && options.awaitWriters === true) await writers.whenOnline();
    for await (const entry of readTar(tar, options.limits ?? DEFAULT_TAR_LIMITS)) {
      state.entries++;
      await applyEntry(state, entry.header, entry.body());
    }
    await flushWrites(state);
  } finally {
    await writers?.close();
  }
  // directory times last: writing children changed them; deepest first
  for (const { target, mtime } of state.dirTimes.reverse()) lutimesSync(target, mtime, mtime);
  return { entries: state.entries, size: state.size };
}

interface ApplyState {
  root: string;
  options: ApplyOptions;
  /** worker threads writing regular files; undefined: all on this thread */
  writers: LayerFileWriters | undefined;
  /** the root was empty: a path exists only if this apply made it (saves an lstat per entry) */
  fresh: boolean;
  rootTraits: number;
  /** paths this layer created, to detect duplicates and to honour opaque dirs */
  seen: Set<string>;
  /** parent directories made implicitly (for entries whose own directory entry is missing) */
  made: Set<string>;
  /** files handed to the writer threads since the last flush */
  pending: Set<string>;
  /** directories checked to be real directories inside the root (saves lstat calls), with their traits */
  knownDirs: Map<string, number>;
  dirTimes: Array<{ target: string; mtime: number }>;
  entries: number;
  size: number;
}

async function applyEntry(state: ApplyState, header: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
  const rel = cleanEntryPath(header.name);
  if (touchesPending(state, rel)) await flushWrites(state);
  const base = path.posix.basename(rel);
  if (base.startsWith(WHITEOUT_PREFIX)) {
    await applyWhiteout(state, rel, base);
    return;
  }
  if (rel === '') {
    if (header.type !== 'dir') throw unsafe(header.name, 'only a directory may name the root');
    setMetadata(state, state.root, header);
    state.rootTraits = (state.rootTraits & (DEFAULT_ACL | FOREIGN)) | ownTraits(header);
    return;
  }
  const mayExist = !state.fresh || state.seen.has(rel) || state.made.has(rel);
  if (state.seen.has(rel) && header.type !== 'dir') throw unsafe(header.name, 'duplicate entry');
  state.seen.add(rel);
  const target = safeParent(state, rel, header.name);
  const existing = mayExist ? lstatOrUndefined(target) : undefined;
  if (existing !== undefined && !(existing.isDirectory() && header.type === 'dir')) {
    await flushWrites(state);
    rmSync(target, { recursive: true, force: true });
    forgetDirs(state);
  }
  switch (header.type) {
    case 'dir':
      if (existing === undefined || !existing.isDirectory()) mkdirSync(target, { mode: 0o700 });
      break;
    case 'file':
      await writeFile(state, rel, target, header, body);
      state.size += header.size;
      return;
    case 'symlink':
      if (header.linkname === '') throw unsafe(header.name, 'symlink with an empty target');
      symlinkSync(header.linkname, target);
      break;
    case 'hardlink': {
      await flushWrites(state); // the source may still be on its way to the disk
      linkSync(hardlinkSource(state, header), target);
      return; // a hardlink shares the metadata of its source
    }
    case 'char': case 'block': case 'fifo':
      makeNode(state, target, header);
      break;
  }
  setMetadata(state, target, header);
  if (header.type === 'dir') {
    const inherited = parentTraits(state, target) & (DEFAULT_ACL | FOREIGN);
    state.knownDirs.set(target, inherited | ownTraits(header) | (existing !== undefined ? FOREIGN : 0));
  }
}

/**
 * A regular file, created new (O_EXCL: never through an existing name or symlink). Owner and
 * mode are set only where open(2) did not already give the right ones (files of root in a
 * plain directory), times always. Files with xattrs are written here; others by the writer
 * threads once they are up.
 */
async function writeFile(state: ApplyState, rel: string, target: string, header: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
  const file = fileWrite(header, target, parentTraits(state, target));
  if (state.writers?.online === true && header.xattrs.size === 0) {
    state.pending.add(rel);
    await state.writers.writeFile(file, header.size, body);
    return;
  }
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, file.createMode);
  try {
    for await (const chunk of body) {
      for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
    }
    if (file.uid >= 0) fchownSync(fd, file.uid, file.gid);
    if (file.chmod >= 0) fchmodSync(fd, file.chmod); // after chown, which clears setuid bits
    setXattrs(target, header);
    futimesSync(fd, file.mtime, file.mtime);
  } finally {
    closeSync(fd);
  }
}

function fileWrite(header: TarHeader, target: string, traits: number): FileWrite {
  const mode = header.mode & 0o7777;
  const chown = isRoot && (header.uid !== EUID || header.gid !== EGID || (traits & (SETGID | FOREIGN)) !== 0);
  const chmod = (mode & 0o7000) !== 0 || UMASK === undefined || (mode & UMASK) !== 0 || (traits & (DEFAULT_ACL | FOREIGN)) !== 0;
  return {
    entry: header.name, path: target, createMode: mode & 0o777,
    uid: chown ? header.uid : -1, gid: chown ? header.gid : -1, chmod: chmod ? mode : -1, mtime: header.mtime,
  };
}

/** Traits a directory entry gives itself: setgid from its mode, a default ACL from its xattrs. */
function ownTraits(header: TarHeader): number {
  return ((header.mode & 0o2000) !== 0 ? SETGID : 0) | (header.xattrs.has(DEFAULT_ACL_XATTR) ? DEFAULT_ACL : 0);
}

function parentTraits(state: ApplyState, target: string): number {
  const parent = path.dirname(target);
  return parent === state.root ? state.rootTraits : state.knownDirs.get(parent) ?? FOREIGN;
}

function dirTraits(dir: string, madeHere: boolean): number {
  let traits = madeHere ? 0 : FOREIGN;
  if ((lstatSync(dir).mode & 0o2000) !== 0) traits |= SETGID;
  try {
    if (getXattr(dir, DEFAULT_ACL_XATTR) !== undefined) traits |= DEFAULT_ACL;
  } catch {
    traits |= DEFAULT_ACL; // cannot tell: set modes explicitly
  }
  return traits;
}

function readUmask(): number | undefined {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match?.[1] !== undefined ? Number.parseInt(match[1], 8) : undefined;
  } catch {
    return undefined;
  }
}

/** Is `rel` or one of its parents a file still being written by a writer thread? */
function touchesPending(state: ApplyState, rel: string): boolean {
  if (state.pending.size === 0) return false;
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) if (state.pending.has(rel.slice(0, i))) return true;
  return state.pending.has(rel);
}

async function flushWrites(state: ApplyState): Promise<void> {
  if (state.writers === undefined) return;
  await state.writers.flush();
  state.pending.clear();
}

function forgetDirs(state: ApplyState): void {
  state.knownDirs.clear();
}

function lstatOrUndefined(file: string): Stats | undefined {
  return lstatSync(file, { throwIfNoEntry: false });
}

async function applyWhiteout(state: ApplyState, rel: string, base: string): Promise<void> {
  const dirRel = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
  const dir = dirRel === '' ? state.root : safeParent(state, dirRel, rel, true);
  if (base === OPAQUE_WHITEOUT) {
    if (state.options.whiteouts === 'overlay') {
      setXattr(dir, state.options.opaqueXattr ?? OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    await flushWrites(state);
    for (const name of readdirSync(dir)) {
      const child = dirRel === '' ? name : `${dirRel}/${name}`;
      if (!state.seen.has(child)) rmSync(path.join(dir, name), { recursive: true, force: true });
    }
    forgetDirs(state);
    return;
  }
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // aufs metadata (.wh..wh.plnk etc.)
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') throw unsafe(rel, 'invalid whiteout name');
  const victim = path.join(dir, name);
  const victimRel = dirRel === '' ? name : `${dirRel}/${name}`;
  // in a fresh layer dir a whiteout usually hides a lower layer's file: nothing here to remove
  if (!state.fresh || state.seen.has(victimRel) || state.made.has(victimRel)) {
    await flushWrites(state);
    rmSync(victim, { recursive: true, force: true });
    forgetDirs(state);
  }
  if (state.options.whiteouts === 'overlay') mknod(victim, S_IFCHR, 0, 0);
}

/**
 * Absolute path of `rel` inside the root, creating missing parent directories. No parent
 * may be a symlink (writing through it could escape the root) or a non-directory.
 */
function safeParent(state: ApplyState, rel: string, entryName: string, includeLast = false): string {
  const parts = rel.split('/');
  const parentParts = includeLast ? parts : parts.slice(0, -1);
  let current = state.root;
  let currentRel = '';
  let traits = state.rootTraits;
  for (const part of parentParts) {
    current = path.join(current, part);
    currentRel = currentRel === '' ? part : `${currentRel}/${part}`;
    const known = state.knownDirs.get(current);
    if (known !== undefined) {
      traits = known;
      continue;
    }
    const st = state.fresh && !state.seen.has(currentRel) && !state.made.has(currentRel) ? undefined : lstatOrUndefined(current);
    if (st === undefined) {
      mkdirSync(current, { mode: 0o755 });
      state.made.add(currentRel);
      // a new directory inherits its parent's setgid bit and default ACL
    } else if (st.isSymbolicLink()) {
      throw unsafe(entryName, `parent "${path.relative(state.root, current)}" is a symlink; writing through it could leave the root`);
    } else if (!st.isDirectory()) {
      throw unsafe(entryName, `parent "${path.relative(state.root, current)}" is not a directory`);
    } else {
      traits = FOREIGN | ((st.mode & 0o2000) !== 0 ? SETGID : 0);
    }
    state.knownDirs.set(current, traits);
  }
  return includeLast ? current : path.join(current, parts[parts.length - 1] as string);
}

function hardlinkSource(state: ApplyState, header: TarHeader): string {
  let rel: string;
  try {
    rel = cleanEntryPath(header.linkname, `hardlink "${header.name}" target`);
  } catch (cause) {
    throw unsafe(header.name, `hardlink target "${header.linkname}" leads out of the root`, cause);
  }
  if (rel === '') throw unsafe(header.name, 'hardlink to the root directory');
  const source = safeParent(state, rel, header.name);
  const st = lstatOrUndefined(source);
  if (st === undefined) throw unsafe(header.name, `hardlink target "${header.linkname}" does not exist in the layer`);
  if (st.isDirectory()) throw unsafe(header.name, `hardlink target "${header.linkname}" is a directory`);
  return source;
}

function makeNode(state: ApplyState, target: string, header: TarHeader): void {
  if (header.type !== 'fifo' && state.options.allowDevices !== true) {
    throw unsafe(header.name, `device nodes are not allowed (${header.type} ${header.devmajor}:${header.devminor})`);
  }
  const kind = header.type === 'char' ? S_IFCHR : header.type === 'block' ? S_IFBLK : S_IFIFO;
  mknod(target, kind | (header.mode & 0o7777), header.devmajor, header.devminor);
}

function setMetadata(state: ApplyState, target: string, header: TarHeader): void {
  if (isRoot) lchownSync(target, header.uid, header.gid);
  if (header.type !== 'symlink') chmodSync(target, header.mode & 0o7777);
  setXattrs(target, header);
  if (header.type === 'dir') state.dirTimes.push({ target, mtime: header.mtime });
  else lutimesSync(target, header.mtime, header.mtime);
}

function setXattrs(target: string, header: TarHeader): void {
  for (const [name, value] of header.xattrs) {
    // a layer may not forge overlay metadata (user.overlay.* is overlay's with userxattr)
    if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
    if (!isRoot && !name.startsWith('user.')) continue;
    setXattr(target, name, value);
  }
}

function unsafe(entry: string, why: string, cause?: unknown): Error {
  return invalidArgument('UNSAFE_LAYER_ENTRY', `layer entry "${entry}": ${why}`, cause === undefined ? undefined : { cause });
}
