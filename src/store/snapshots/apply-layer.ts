// Applying a layer tarball to a directory. The tar comes from strangers: every path is
// cleaned and checked (no "..", no absolute paths, no parent that is a symlink, hardlinks
// only to files inside the root), devices only when allowed, and whiteouts become either
// overlayfs' own form (char 0:0, trusted.overlay.opaque) or deletions.
// The file system calls are synchronous on purpose: each is a few microseconds, and a
// thread-pool round trip per call made unpacking ten times slower than GNU tar. Everything
// but a file's bytes is applied by one synchronous step per entry, shared by the streaming
// applyLayer and applyLayerSync (the unpack worker's: no promise per entry or chunk).
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, getXattr, mknod, setXattr } from '../../sys/fs-native.js';
import { cleanEntryPath, readTar, readTarSync, DEFAULT_TAR_LIMITS, type TarHeader, type TarLimits } from '../archive/tar-reader.js';

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

// What a new file inherits from its directory besides what open(2) is told: the group of a
// setgid directory, the mode from a default ACL. Unknown for directories this apply did not make.
const SETGID = 1;
const DEFAULT_ACL = 2;
const FOREIGN = 4;
const DEFAULT_ACL_XATTR = 'system.posix_acl_default';

/** Apply an uncompressed layer tar stream to `root` (which must exist). */
export async function applyLayer(root: string, tar: AsyncIterable<Uint8Array>, options: ApplyOptions): Promise<ApplyResult> {
  const state = startApply(root, options);
  for await (const entry of readTar(tar, options.limits ?? DEFAULT_TAR_LIMITS)) {
    const file = applyEntry(state, entry.header);
    if (file === undefined) continue;
    try {
      for await (const chunk of entry.body()) writeAll(file.fd, chunk);
      finishFile(file);
    } finally {
      closeSync(file.fd);
    }
  }
  return finishApply(state);
}

/**
 * applyLayer for a synchronous stream (`next` gives the next chunk, undefined at the end; a
 * chunk may reuse the previous one's memory). Blocks its thread: for worker threads.
 */
export function applyLayerSync(root: string, next: () => Buffer | undefined, options: ApplyOptions): ApplyResult {
  const state = startApply(root, options);
  for (const entry of readTarSync(next, options.limits ?? DEFAULT_TAR_LIMITS)) {
    const file = applyEntry(state, entry.header);
    if (file === undefined) continue;
    try {
      for (const chunk of entry.body()) writeAll(file.fd, chunk);
      finishFile(file);
    } finally {
      closeSync(file.fd);
    }
  }
  return finishApply(state);
}

function startApply(root: string, options: ApplyOptions): ApplyState {
  const fresh = readdirSync(root).length === 0;
  return {
    root, options, fresh, rootTraits: dirTraits(root, fresh), seen: new Set(), made: new Set(),
    knownDirs: new Map(), dirTimes: [], entries: 0, size: 0,
  };
}

function finishApply(state: ApplyState): ApplyResult {
  // directory times last: writing children changed them; deepest first
  for (const { target, mtime } of state.dirTimes.reverse()) lutimesSync(target, mtime, mtime);
  return { entries: state.entries, size: state.size };
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
}

interface ApplyState {
  root: string;
  options: ApplyOptions;
  /** the root was empty: a path exists only if this apply made it (saves an lstat per entry) */
  fresh: boolean;
  rootTraits: number;
  /** paths this layer created, to detect duplicates and to honour opaque dirs */
  seen: Set<string>;
  /** parent directories made implicitly (for entries whose own directory entry is missing) */
  made: Set<string>;
  /** directories checked to be real directories inside the root (saves lstat calls), with their traits */
  knownDirs: Map<string, number>;
  dirTimes: Array<{ target: string; mtime: number }>;
  entries: number;
  size: number;
}

/** A regular file created by applyEntry, waiting for its bytes; the caller closes fd. */
interface OpenFile {
  fd: number;
  target: string;
  header: TarHeader;
  /** fchown to these ids, or -1 for no fchown */
  uid: number;
  gid: number;
  /** fchmod to this mode (after the fchown), or -1 when open's mode is already right */
  chmod: number;
}

/** Apply one entry but a regular file's bytes: a regular file is returned open for them. */
function applyEntry(state: ApplyState, header: TarHeader): OpenFile | undefined {
  state.entries++;
  const rel = cleanEntryPath(header.name);
  const base = path.posix.basename(rel);
  if (base.startsWith(WHITEOUT_PREFIX)) {
    applyWhiteout(state, rel, base);
    return undefined;
  }
  if (rel === '') {
    if (header.type !== 'dir') throw unsafe(header.name, 'only a directory may name the root');
    setMetadata(state, state.root, header);
    state.rootTraits = (state.rootTraits & (DEFAULT_ACL | FOREIGN)) | ownTraits(header);
    return undefined;
  }
  const mayExist = !state.fresh || state.seen.has(rel) || state.made.has(rel);
  if (state.seen.has(rel) && header.type !== 'dir') throw unsafe(header.name, 'duplicate entry');
  state.seen.add(rel);
  const target = safeParent(state, rel, header.name);
  const existing = mayExist ? lstatOrUndefined(target) : undefined;
  if (existing !== undefined && !(existing.isDirectory() && header.type === 'dir')) {
    rmSync(target, { recursive: true, force: true });
    forgetDirs(state);
  }
  switch (header.type) {
    case 'dir':
      if (existing === undefined || !existing.isDirectory()) mkdirSync(target, { mode: 0o700 });
      break;
    case 'file':
      state.size += header.size;
      return createFile(header, target, parentTraits(state, target));
    case 'symlink':
      if (header.linkname === '') throw unsafe(header.name, 'symlink with an empty target');
      symlinkSync(header.linkname, target);
      break;
    case 'hardlink':
      linkSync(hardlinkSource(state, header), target);
      return undefined; // a hardlink shares the metadata of its source
    case 'char': case 'block': case 'fifo':
      makeNode(state, target, header);
      break;
  }
  setMetadata(state, target, header);
  if (header.type === 'dir') {
    const inherited = parentTraits(state, target) & (DEFAULT_ACL | FOREIGN);
    state.knownDirs.set(target, inherited | ownTraits(header) | (existing !== undefined ? FOREIGN : 0));
  }
  return undefined;
}

/**
 * A regular file, created new (O_EXCL: never through an existing name or symlink). Owner and
 * mode are set (by finishFile) only where open(2) did not already give the right ones (files
 * of root in a plain directory), times always.
 */
function createFile(header: TarHeader, target: string, traits: number): OpenFile {
  const mode = header.mode & 0o7777;
  const chown = isRoot && (header.uid !== EUID || header.gid !== EGID || (traits & (SETGID | FOREIGN)) !== 0);
  const chmod = (mode & 0o7000) !== 0 || UMASK === undefined || (mode & UMASK) !== 0 || (traits & (DEFAULT_ACL | FOREIGN)) !== 0;
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o777);
  return { fd, target, header, uid: chown ? header.uid : -1, gid: chown ? header.gid : -1, chmod: chmod ? mode : -1 };
}

/** Owner, mode, xattrs and times of a file whose bytes are written (the caller closes it). */
function finishFile(file: OpenFile): void {
  if (file.uid >= 0) fchownSync(file.fd, file.uid, file.gid);
  if (file.chmod >= 0) fchmodSync(file.fd, file.chmod); // after chown, which clears setuid bits
  setXattrs(file.target, file.header);
  futimesSync(file.fd, file.header.mtime, file.header.mtime);
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

function forgetDirs(state: ApplyState): void {
  state.knownDirs.clear();
}

function lstatOrUndefined(file: string): Stats | undefined {
  return lstatSync(file, { throwIfNoEntry: false });
}

function applyWhiteout(state: ApplyState, rel: string, base: string): void {
  const dirRel = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
  const dir = dirRel === '' ? state.root : safeParent(state, dirRel, rel, true);
  if (base === OPAQUE_WHITEOUT) {
    if (state.options.whiteouts === 'overlay') {
      setXattr(dir, state.options.opaqueXattr ?? OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
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
