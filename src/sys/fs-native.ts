// File system syscalls Node lacks (xattrs, mknod, mount, umount2), called through koffi
// (a prebuilt FFI library; no compiled addon of ours). Each failure is a BerthError
// carrying the errno name and the path, like the helper's reports.
import { closeSync, constants as fsConstants, openSync, readFileSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { BerthError } from '../errors/berth-error.js';
import { lazyLibc, type KoffiFunction } from './koffi-libc.js';

interface Libc {
  lsetxattr: KoffiFunction; lgetxattr: KoffiFunction; llistxattr: KoffiFunction; lremovexattr: KoffiFunction;
  mknod: KoffiFunction; mount: KoffiFunction; umount2: KoffiFunction; memfdCreate: KoffiFunction; fcntl: KoffiFunction; ioctl: KoffiFunction;
  errno: () => number;
}

const load = lazyLibc<Libc>((func) => ({
  lsetxattr: func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  lgetxattr: func('long lgetxattr(const char *path, const char *name, void *value, size_t size)'),
  llistxattr: func('long llistxattr(const char *path, void *list, size_t size)'),
  lremovexattr: func('int lremovexattr(const char *path, const char *name)'),
  mknod: func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  mount: func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: func('int umount2(const char *target, int flags)'),
  memfdCreate: func('int memfd_create(const char *name, unsigned int flags)'),
  fcntl: func('int fcntl(int fd, int cmd, ...)'),
  ioctl: func('int ioctl(int fd, unsigned long request, ...)'),
}));

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** A failed syscall: `code` is the errno name (ENOENT, ENODATA...), so callers can branch on it. */
export class SyscallError extends BerthError {
  readonly errno: string;
  constructor(call: string, path: string, errno: number) {
    const name = errnoName(errno);
    super(errno === constants.errno.EPERM || errno === constants.errno.EACCES ? 'forbidden' : 'internal', name,
      `${call} ${path}: ${name}`, { detail: { step: call, errno: name, path } });
    this.errno = name;
  }
}

function check(result: unknown, call: string, path: string): number {
  const value = Number(result);
  if (value < 0) throw new SyscallError(call, path, load().errno());
  return value;
}

export function setXattr(path: string, name: string, value: Uint8Array): void {
  check(load().lsetxattr(path, name, value, value.byteLength, 0), 'lsetxattr', path);
}

export function removeXattr(path: string, name: string): void {
  check(load().lremovexattr(path, name), 'lremovexattr', path);
}

/** The value of an xattr, or undefined when the file does not have it. */
export function getXattr(path: string, name: string): Buffer | undefined {
  const c = load();
  for (let size = 256; size <= 65536; size *= 16) {
    const buffer = Buffer.alloc(size);
    const n = Number(c.lgetxattr(path, name, buffer, size));
    if (n >= 0) return buffer.subarray(0, n);
    const errno = c.errno();
    if (errno === constants.errno.ENODATA) return undefined;
    if (errno !== constants.errno.ERANGE) throw new SyscallError('lgetxattr', path, errno);
  }
  throw new SyscallError('lgetxattr', path, constants.errno.ERANGE);
}

/** Names of all xattrs of a file (not following symlinks). */
export function listXattrs(path: string): string[] {
  const c = load();
  for (let size = 1024; size <= 65536; size *= 8) {
    const buffer = Buffer.alloc(size);
    const n = Number(c.llistxattr(path, buffer, size));
    if (n >= 0) return buffer.subarray(0, n).toString('latin1').split('\0').filter((s) => s !== '');
    const errno = c.errno();
    if (errno === constants.errno.ENOTSUP) return [];
    if (errno !== constants.errno.ERANGE) throw new SyscallError('llistxattr', path, errno);
  }
  throw new SyscallError('llistxattr', path, constants.errno.ERANGE);
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** glibc's makedev for 64-bit dev_t. */
export function makeDev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(load().mknod(path, mode, makeDev(major, minor)), 'mknod', path);
}

export const MS_RDONLY = 1;
export const MNT_DETACH = 2;

export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  check(load().mount(source, target, fstype, flags, data), 'mount', target);
}

/**
 * mount(2) on koffi's worker thread: the kernel's mount lock is the one every container's
 * own mounts and every umount take, and a mount waiting for it on the event loop stalled
 * every request in flight (1-15 ms under 10 parallel runs). A failure is tried again here,
 * synchronously, for its errno (not visible from that thread): the error names it.
 */
export async function mountAsync(source: string, target: string, fstype: string, flags: number, data: string): Promise<void> {
  const c = load();
  const done = await new Promise<boolean>((resolve) => {
    c.mount.async(source, target, fstype, flags, data, (err: unknown, result: unknown) => resolve(err == null && Number(result) === 0));
  });
  if (!done) mount(source, target, fstype, flags, data);
}

export function umount(target: string, flags = 0): void {
  check(load().umount2(target, flags), 'umount2', target);
}

const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;
const FS_TOPDIR_FL = 0x00020000;

/**
 * Mark a directory as the top of unrelated trees (chattr +T): ext4's Orlov allocator then
 * spreads the directories made in it over the block groups, as it does for those in the
 * root, instead of packing them into the parent's group. Throws a SyscallError where the
 * file system has no such flag (EOPNOTSUPP, ENOTTY).
 */
export function markTopDirectory(dir: string): void {
  const c = load();
  const fd = openSync(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    const flags = new Int32Array(1);
    check(c.ioctl(fd, FS_IOC_GETFLAGS, 'int *', flags), 'ioctl_getflags', dir);
    if (((flags[0] ?? 0) & FS_TOPDIR_FL) !== 0) return;
    flags[0] = (flags[0] ?? 0) | FS_TOPDIR_FL;
    check(c.ioctl(fd, FS_IOC_SETFLAGS, 'int *', flags), 'ioctl_setflags', dir);
  } finally {
    closeSync(fd);
  }
}

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
const SEAL_ALL = 1 | 2 | 4 | 8; // F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE

/**
 * A sealed in-memory copy of the executable `source` (memfd, close-on-exec), for a
 * long-lived process to exec through /proc/<its pid>/fd/<fd> instead of the file: nothing,
 * not even a container process reaching it through /proc/<pid>/exe, can change it.
 */
export function sealedCopy(source: string, name: string): number {
  const c = load();
  const fd = check(c.memfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), 'memfd_create', name);
  const bytes = readFileSync(source);
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
  check(c.fcntl(fd, F_ADD_SEALS, 'int', SEAL_ALL), 'fcntl_add_seals', source);
  return fd;
}

/**
 * umount2(target, MNT_DETACH) on koffi's worker thread, so the event loop does not wait for
 * the kernel. Resolves false when it failed (errno is not visible from that thread): the
 * caller falls back to a way that explains the failure.
 */
export async function unmountDetached(target: string): Promise<boolean> {
  const c = load();
  return await new Promise((resolve) => {
    c.umount2.async(target, MNT_DETACH, (err: unknown, result: unknown) => resolve(err == null && Number(result) === 0));
  });
}
