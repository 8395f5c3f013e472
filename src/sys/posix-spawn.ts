// Starting berth-helper without fork(): glibc's posix_spawn through koffi. Node's
// child_process forks, and a fork copies the page tables of the whole Node process
// (8.7 ms from a 49 MB node, 15 ms from a 250 MB berthd, on every container start);
// posix_spawn clones with CLONE_VM|CLONE_VFORK, so nothing is copied: ~2 ms to exec.
// The child's fds are placed with file actions; every other fd is closed (closefrom), so
// nothing of the caller leaks into the helper even if it lacks O_CLOEXEC.
// libuv reaps only the children it spawned itself, so ours are reaped here (reaper below).
import { constants as fsConstants, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { BerthError } from '../errors/berth-error.js';
import { errnoName } from './errno.js';
import { lazyLibc, type KoffiFunction } from './koffi-libc.js';

interface SpawnLibc {
  posixSpawn: KoffiFunction; posixSpawnp: KoffiFunction; faChdir: KoffiFunction;
  faInit: KoffiFunction; faDestroy: KoffiFunction; faDup2: KoffiFunction; faOpen: KoffiFunction; faCloseFrom: KoffiFunction;
  attrInit: KoffiFunction; attrDestroy: KoffiFunction; attrSetFlags: KoffiFunction; attrSetSigDefault: KoffiFunction; attrSetSigMask: KoffiFunction;
  sigFillSet: KoffiFunction; sigEmptySet: KoffiFunction;
  socketpair: KoffiFunction; memfdCreate: KoffiFunction; fcntl: KoffiFunction; close: KoffiFunction; waitpid: KoffiFunction;
  errno: () => number;
}

const libc = lazyLibc<SpawnLibc>((func) => ({
  posixSpawn: func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
  posixSpawnp: func('int posix_spawnp(_Out_ int *pid, const char *file, void *actions, void *attr, const char **argv, const char **envp)'),
  faChdir: func('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
  faInit: func('int posix_spawn_file_actions_init(void *actions)'),
  faDestroy: func('int posix_spawn_file_actions_destroy(void *actions)'),
  faDup2: func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
  faOpen: func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, uint32_t mode)'),
  faCloseFrom: func('int posix_spawn_file_actions_addclosefrom_np(void *actions, int from)'),
  attrInit: func('int posix_spawnattr_init(void *attr)'),
  attrDestroy: func('int posix_spawnattr_destroy(void *attr)'),
  attrSetFlags: func('int posix_spawnattr_setflags(void *attr, short flags)'),
  attrSetSigDefault: func('int posix_spawnattr_setsigdefault(void *attr, void *set)'),
  attrSetSigMask: func('int posix_spawnattr_setsigmask(void *attr, void *set)'),
  sigFillSet: func('int sigfillset(void *set)'),
  sigEmptySet: func('int sigemptyset(void *set)'),
  socketpair: func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
  memfdCreate: func('int memfd_create(const char *name, unsigned int flags)'),
  fcntl: func('int fcntl(int fd, int cmd, int arg)'),
  close: func('int close(int fd)'),
  waitpid: func('int waitpid(int pid, _Out_ int *status, int options)'),
}));

// glibc x86_64/aarch64 sizes are 80 and 336 bytes; room to spare for any libc layout
const FILE_ACTIONS_SIZE = 256;
const SPAWNATTR_SIZE = 1024;
const SIGSET_SIZE = 128;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const MFD_CLOEXEC = 1;
const F_DUPFD_CLOEXEC = 1030;
const WNOHANG = 1;

function syscallFailed(call: string, errno: number): BerthError {
  return new BerthError('internal', errnoName(errno), `${call}: ${errnoName(errno)}`, { detail: { step: call, errno: errnoName(errno) } });
}

/** A connected pair of unix stream sockets, both close-on-exec. */
export function socketPair(): [number, number] {
  const c = libc();
  const fds = [-1, -1];
  if (Number(c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) < 0) throw syscallFailed('socketpair', c.errno());
  return [fds[0] as number, fds[1] as number];
}

/** An in-memory file holding `bytes` with its offset at 0: the helper reads it to EOF like a pipe, and it never blocks the writer. */
export function memoryFileWith(bytes: Uint8Array, name: string): number {
  const c = libc();
  const fd = Number(c.memfdCreate(name, MFD_CLOEXEC));
  if (fd < 0) throw syscallFailed('memfd_create', c.errno());
  try {
    // positional writes (pwrite) leave the file offset at 0 for the reader
    for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off, off);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  return fd;
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

/** What the child gets at one fd number. */
export type ChildFd = { fd: number } | 'devnull' | 'inherit';

export interface SpawnRequest {
  file: string;
  argv: readonly string[];
  env: readonly string[];
  /** index = the fd number in the child; every fd above these is closed */
  fds: readonly ChildFd[];
  /** start a new session (setsid), as a detached child */
  setsid?: boolean;
  /** the child's working directory (default: the caller's) */
  cwd?: string;
  /** a `file` without a slash is looked up in the PATH of this process's environment (posix_spawnp) */
  searchPath?: boolean;
}

/** posix_spawn's arguments for `request` (file actions, attributes), and what frees them. */
interface PreparedSpawn {
  call: KoffiFunction;
  args: [string, Buffer, Buffer, Array<string | null>, Array<string | null>];
  release(): void;
}

function prepareSpawn(request: SpawnRequest): PreparedSpawn {
  const c = libc();
  const actions = Buffer.alloc(FILE_ACTIONS_SIZE);
  const attr = Buffer.alloc(SPAWNATTR_SIZE);
  const lowered: number[] = [];
  c.faInit(actions);
  c.attrInit(attr);
  const release = (): void => {
    for (const fd of lowered) c.close(fd);
    c.faDestroy(actions);
    c.attrDestroy(attr);
  };
  try {
    if (request.cwd !== undefined) check(c.faChdir(actions, request.cwd), 'posix_spawn_file_actions_addchdir_np');
    const count = request.fds.length;
    request.fds.forEach((source, target) => {
      if (source === 'devnull') check(c.faOpen(actions, target, '/dev/null', fsConstants.O_RDWR, 0), 'posix_spawn_file_actions_addopen');
      else if (source === 'inherit') check(c.faDup2(actions, target, target), 'posix_spawn_file_actions_adddup2'); // clears FD_CLOEXEC
      else check(c.faDup2(actions, sourceAbove(source.fd, count, lowered), target), 'posix_spawn_file_actions_adddup2');
    });
    check(c.faCloseFrom(actions, count), 'posix_spawn_file_actions_addclosefrom_np');
    const all = Buffer.alloc(SIGSET_SIZE);
    const none = Buffer.alloc(SIGSET_SIZE);
    c.sigFillSet(all);
    c.sigEmptySet(none);
    check(c.attrSetSigDefault(attr, all), 'posix_spawnattr_setsigdefault');
    check(c.attrSetSigMask(attr, none), 'posix_spawnattr_setsigmask');
    check(c.attrSetFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (request.setsid ? POSIX_SPAWN_SETSID : 0)), 'posix_spawnattr_setflags');
  } catch (err) {
    release();
    throw err;
  }
  const call = request.searchPath === true ? c.posixSpawnp : c.posixSpawn;
  return { call, args: [request.file, actions, attr, [...request.argv, null], [...request.env, null]], release };
}

function spawnResult(request: SpawnRequest, result: number, pid: number): number {
  if (result !== 0) {
    throw new BerthError('unavailable', 'SPAWN_FAILED', `cannot run ${request.file}: ${errnoName(result)}`, { detail: { errno: errnoName(result), path: request.file } });
  }
  return pid;
}

/**
 * posix_spawn `file`; returns its pid. Signals start at their defaults and unblocked (Node
 * ignores SIGPIPE; an ignored signal would survive execve). A failure to exec is thrown.
 */
export function spawnProgram(request: SpawnRequest): number {
  const prepared = prepareSpawn(request);
  try {
    const pid = [0];
    return spawnResult(request, Number(prepared.call(pid, ...prepared.args)), pid[0] as number);
  } finally {
    prepared.release();
  }
}

/**
 * spawnProgram on koffi's worker thread: the calling thread is held (CLONE_VFORK) until the
 * child has exec'd, here that is a worker and not the event loop. The child gets that
 * thread's namespaces and credentials, which berth never changes on worker threads.
 */
export async function spawnProgramAsync(request: SpawnRequest): Promise<number> {
  const prepared = prepareSpawn(request);
  const pid = [0];
  return await new Promise<number>((resolve, reject) => {
    prepared.call.async(pid, ...prepared.args, (err: unknown, result: unknown) => {
      prepared.release();
      try {
        if (err != null) throw err;
        resolve(spawnResult(request, Number(result), pid[0] as number));
      } catch (failure) {
        reject(failure);
      }
    });
  });
}

function check(result: unknown, call: string): void {
  const value = Number(result);
  if (value !== 0) throw syscallFailed(call, value > 0 ? value : libc().errno());
}

/** A source fd below the target range would be overwritten by an earlier dup2: move it up first. */
function sourceAbove(fd: number, count: number, lowered: number[]): number {
  if (fd >= count) return fd;
  const c = libc();
  const copy = Number(c.fcntl(fd, F_DUPFD_CLOEXEC, count));
  if (copy < 0) throw syscallFailed('fcntl_dupfd', c.errno());
  lowered.push(copy);
  return copy;
}

export interface WaitStatus {
  /** the exit code, or 128 + the signal when killed by one */
  exitCode: number;
  /** the signal number that ended it, 0 if none */
  signal: number;
}

function decodeWaitStatus(status: number): WaitStatus {
  const signal = status & 0x7f;
  return signal === 0 ? { exitCode: (status >> 8) & 0xff, signal: 0 } : { exitCode: 128 + signal, signal };
}

/**
 * Reaps the children spawned here: on each SIGCHLD every watched pid is polled with
 * waitpid(pid, WNOHANG) (never waitpid(-1): libuv's children are libuv's). SIGCHLD is a
 * process-wide signal, so there is one reaper per process. Its signal listener does not
 * keep the event loop alive; callers that must see an exit keep something else open.
 */
class ChildReaper {
  private readonly watched = new Map<number, (status: WaitStatus) => void>();
  private readonly onSignal = (): void => { this.poll(); };

  watch(pid: number): Promise<WaitStatus> {
    return new Promise((resolve) => {
      if (this.watched.size === 0) process.on('SIGCHLD', this.onSignal);
      this.watched.set(pid, resolve);
      this.poll(); // it may have exited before the listener was there
    });
  }

  /** reap `pid` now if it has exited (or wait for it: `block`); true when it is (or was already) reaped */
  tryReap(pid: number, block = false): boolean {
    const resolve = this.watched.get(pid);
    if (!resolve) return true;
    const c = libc();
    const status = [0];
    let result = Number(c.waitpid(pid, status, block ? 0 : WNOHANG));
    while (block && result < 0 && c.errno() === constants.errno.EINTR) result = Number(c.waitpid(pid, status, 0));
    if (result === 0 || (result < 0 && c.errno() === constants.errno.EINTR)) return false;
    // ECHILD: not ours to wait for any more; nothing else can be learnt about it
    this.watched.delete(pid);
    if (this.watched.size === 0) process.removeListener('SIGCHLD', this.onSignal);
    resolve(result === pid ? decodeWaitStatus(status[0] as number) : { exitCode: 128, signal: 0 });
    return true;
  }

  /** signal a child that has not been reaped yet (until then its pid cannot be reused) */
  signal(pid: number, signal: NodeJS.Signals): void {
    if (this.watched.has(pid)) process.kill(pid, signal);
  }

  private poll(): void {
    for (const pid of [...this.watched.keys()]) this.tryReap(pid);
  }
}

let reaper: ChildReaper | undefined;

/** Resolves with the wait status of a child spawned by spawnProgram, once it is reaped. */
export function watchChild(pid: number): Promise<WaitStatus> {
  reaper ??= new ChildReaper();
  return reaper.watch(pid);
}

/**
 * The child is known to be exiting (it closed the last fd we share): reap it on short timers.
 * These keep the event loop alive until it is reaped, as a child_process handle would;
 * the SIGCHLD listener alone does not.
 */
export function reapSoon(pid: number, delayMs = 1): void {
  if (reaper?.tryReap(pid) ?? true) return;
  setTimeout(() => { reapSoon(pid, Math.min(delayMs * 2, 100)); }, delayMs);
}

/**
 * SIGKILL a child of spawnProgram and reap it before returning: a blocking waitpid, for a
 * child that dies at once (one blocked in a read), also usable in a process 'exit' handler.
 */
export function killAndReap(pid: number): void {
  const watching = reaper;
  if (!watching || watching.tryReap(pid)) return;
  watching.signal(pid, 'SIGKILL');
  watching.tryReap(pid, true);
}

/** Send `signal` to a child of spawnProgram unless it has been reaped (its pid may be another's by then). */
export function signalChild(pid: number, signal: NodeJS.Signals): void {
  reaper?.signal(pid, signal);
}
