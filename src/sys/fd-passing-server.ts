// A unix socket server whose clients send their open fds (SCM_RIGHTS) with a request:
// berth-runtime's resident server takes its thin client's stdio this way (native/src/client.c).
// Node reads sockets with read(2), which drops ancillary data, so the accepting side is
// not Node's: one worker thread blocks in accept4/recvmsg through koffi and hands each
// complete request (the connection fd, the passed fds, the peer's credentials, the payload)
// to the main thread, which owns every fd from then on.
//
// Wire format of a request (little-endian): u32 magic, u32 payload length, sent by one
// sendmsg that carries the fds; then the payload bytes.
import { chmodSync, closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BerthError } from '../errors/berth-error.js';
import { errnoName } from './errno.js';
import { lazyLibc } from './koffi-libc.js';

export interface PeerCredentials { pid: number; uid: number; gid: number }

export interface FdRequest {
  /** the connected socket; the receiver owns it (net.Socket({ fd })) */
  connection: number;
  /** the fds the client passed, close-on-exec; the receiver owns them */
  fds: number[];
  peer: PeerCredentials;
  payload: Buffer;
}

export interface FdServerOptions {
  /** the socket file; its directory's path may be long (it is bound through /proc/self/fd) */
  socketPath: string;
  magic: number;
  maxFds: number;
  maxPayload: number;
  /** only clients of this effective uid are served (SO_PEERCRED); others are closed at once */
  uid: number;
  onRequest(request: FdRequest): void;
}

const require = createRequire(import.meta.url);

// The accepting worker, as a script (nothing to find from source or from dist). A client
// gets 2 s to send its request (SO_RCVTIMEO), so a stuck one cannot stall the others long.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const lib = koffi.load('libc.so.6');
const accept4 = lib.func('int accept4(int fd, void *addr, void *len, int flags)');
const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
const recvmsg = lib.func('intptr_t recvmsg(int fd, void *msg, int flags)');
const recv = lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)');
const close = lib.func('int close(int fd)');
const { listenFd, magic, maxFds, maxPayload, uid } = workerData;
const stopping = new Int32Array(workerData.stop);
const SOL_SOCKET = 1, SO_PEERCRED = 17, SO_RCVTIMEO = 20, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000, MSG_CTRUNC = 8;
const EINTR = 4, ECONNABORTED = 103;
// msghdr at 0, iovec at 64, control at 128, header bytes at 512: stable memory for recvmsg
const mem = koffi.alloc('uint8_t', 1024);
const base = koffi.address(mem);
const view = new DataView(koffi.view(mem, 1024));
const CONTROL = 128, CONTROL_LEN = 16 + 4 * maxFds + 8, HEADER = 512;

function peerOf(fd) {
  const cred = Buffer.alloc(12), len = Buffer.alloc(4);
  len.writeUInt32LE(12);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len) !== 0) return undefined;
  return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4), gid: cred.readUInt32LE(8) };
}

function receiveHeader(fd) {
  view.setBigUint64(0, 0n, true); view.setUint32(8, 0, true);
  view.setBigUint64(16, base + 64n, true); view.setBigUint64(24, 1n, true);
  view.setBigUint64(32, base + BigInt(CONTROL), true); view.setBigUint64(40, BigInt(CONTROL_LEN), true);
  view.setInt32(48, 0, true);
  view.setBigUint64(64, base + BigInt(HEADER), true); view.setBigUint64(72, 8n, true);
  let n;
  do n = Number(recvmsg(fd, mem, MSG_CMSG_CLOEXEC)); while (n < 0 && koffi.errno() === EINTR);
  const fds = [];
  const controlLen = Number(view.getBigUint64(40, true));
  if (controlLen >= 16 && view.getInt32(CONTROL + 8, true) === SOL_SOCKET && view.getInt32(CONTROL + 12, true) === SCM_RIGHTS) {
    const count = (Number(view.getBigUint64(CONTROL, true)) - 16) / 4;
    for (let i = 0; i < count; i++) fds.push(view.getInt32(CONTROL + 16 + 4 * i, true));
  }
  const truncated = (view.getInt32(48, true) & MSG_CTRUNC) !== 0;
  if (n !== 8 || truncated || view.getUint32(HEADER, true) !== magic) return { fds, error: 'bad header' };
  return { fds, length: view.getUint32(HEADER + 4, true) };
}

function receivePayload(fd, length) {
  const payload = Buffer.alloc(length);
  for (let off = 0; off < length;) {
    const n = Number(recv(fd, payload.subarray(off), length - off, 0));
    if (n < 0 && koffi.errno() === EINTR) continue;
    if (n <= 0) return undefined;
    off += n;
  }
  return payload;
}

function serve(fd) {
  const peer = peerOf(fd);
  if (!peer || peer.uid !== uid) return false;
  const timeout = Buffer.alloc(16); timeout.writeBigInt64LE(2n, 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
  const header = receiveHeader(fd);
  const reject = () => { for (const passed of header.fds) close(passed); return false; };
  if (header.error || header.fds.length > maxFds || header.length > maxPayload) return reject();
  const payload = receivePayload(fd, header.length);
  if (!payload) return reject();
  timeout.fill(0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
  parentPort.postMessage({ connection: fd, fds: header.fds, peer, payload });
  return true;
}

for (;;) {
  const fd = accept4(listenFd, null, null, 0o2000000);
  if (fd < 0) {
    const errno = koffi.errno();
    if (errno === EINTR || errno === ECONNABORTED) continue;
    break; // the listening socket is gone
  }
  // the server is closing: its own wake-up connection (or a late client, who will retry) ends the loop
  if (Atomics.load(stopping, 0) === 1) { close(fd); break; }
  if (!serve(fd)) close(fd);
}
`;

interface SocketLibc {
  socket: (...args: unknown[]) => unknown;
  bind: (...args: unknown[]) => unknown;
  listen: (...args: unknown[]) => unknown;
  shutdown: (...args: unknown[]) => unknown;
  close: (...args: unknown[]) => unknown;
  errno: () => number;
}

const libc = lazyLibc<SocketLibc>((func) => ({
  socket: func('int socket(int domain, int type, int protocol)'),
  bind: func('int bind(int fd, const void *addr, uint32_t len)'),
  listen: func('int listen(int fd, int backlog)'),
  shutdown: func('int shutdown(int fd, int how)'),
  close: func('int close(int fd)'),
}));

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SHUT_RDWR = 2;

function socketError(step: string, socketPath: string, errno: number): BerthError {
  const name = errnoName(errno);
  return new BerthError('unavailable', name, `${step} ${socketPath}: ${name}`, { detail: { step, errno: name, path: socketPath } });
}

/** sockaddr_un of a path (short: the caller names the directory through /proc/self/fd) */
function unixAddress(name: string): Buffer {
  const address = Buffer.alloc(2 + 108);
  address.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(name) >= 108) throw new Error(`socket path too long: ${name}`);
  address.write(name, 2);
  return address;
}

/** A listening socket served by the accepting worker. */
export class FdPassingServer {
  private closed = false;

  private constructor(private readonly worker: Worker, private readonly listenFd: number,
    readonly socketPath: string, private readonly inode: number, private readonly stopping: Int32Array) {}

  /** Bind (mode 0600, replacing a stale socket file) and start accepting. */
  static async listen(options: FdServerOptions): Promise<FdPassingServer> {
    const c = libc();
    const fd = Number(c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd < 0) throw socketError('socket', options.socketPath, c.errno());
    try {
      unlinkSync(options.socketPath);
    } catch { /* none was there */ }
    const dirFd = openSync(path.dirname(options.socketPath), 'r');
    try {
      const address = unixAddress(`/proc/self/fd/${dirFd}/${path.basename(options.socketPath)}`);
      if (Number(c.bind(fd, address, address.length)) !== 0) throw socketError('bind', options.socketPath, c.errno());
    } catch (err) {
      c.close(fd);
      throw err;
    } finally {
      closeSync(dirFd);
    }
    // before listen(): until then every connect is refused, so no one slips in at the old mode
    chmodSync(options.socketPath, 0o600);
    const inode = statSync(options.socketPath).ino;
    if (Number(c.listen(fd, 64)) !== 0) {
      const errno = c.errno();
      c.close(fd);
      throw socketError('listen', options.socketPath, errno);
    }
    const koffi = require.resolve('koffi');
    const stopping = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { koffi, listenFd: fd, stop: stopping.buffer, magic: options.magic, maxFds: options.maxFds, maxPayload: options.maxPayload, uid: options.uid },
    });
    worker.on('message', (message: unknown) => { options.onRequest(parseRequest(message)); });
    worker.on('error', (err) => { process.emitWarning(`fd-passing server ${options.socketPath}: ${err.message}`); });
    return new FdPassingServer(worker, fd, options.socketPath, inode, stopping);
  }

  /** false once the socket file is gone or replaced (its directory removed, another server bound) */
  stillBound(): boolean {
    try {
      return statSync(this.socketPath).ino === this.inode;
    } catch {
      return false;
    }
  }

  /**
   * Stop accepting: the worker is told to stop and woken by a connection of our own (a
   * blocked accept4 wakes for nothing else), then the socket file goes (new clients start a
   * new server) and the listener closes.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.stopping, 0, 1);
    const exited = new Promise<void>((resolve) => { this.worker.once('exit', () => resolve()); });
    if (this.stillBound()) await this.wakeWorker();
    if (this.stillBound()) {
      try { unlinkSync(this.socketPath); } catch { /* already gone */ }
    }
    const c = libc();
    c.shutdown(this.listenFd, SHUT_RDWR);
    const timer = setTimeout(() => { void this.worker.terminate(); }, 1000);
    await exited;
    clearTimeout(timer);
    c.close(this.listenFd);
  }

  private async wakeWorker(): Promise<void> {
    const dirFd = openSync(path.dirname(this.socketPath), 'r');
    try {
      await new Promise<void>((resolve) => {
        const socket = net.connect(`/proc/self/fd/${dirFd}/${path.basename(this.socketPath)}`);
        socket.on('connect', () => { socket.destroy(); resolve(); });
        socket.on('error', () => resolve());
      });
    } finally {
      closeSync(dirFd);
    }
  }
}

function parseRequest(message: unknown): FdRequest {
  // the worker is ours: its messages have this shape by construction
  const m = message as { connection: number; fds: number[]; peer: PeerCredentials; payload: Uint8Array };
  return { connection: m.connection, fds: m.fds, peer: m.peer, payload: Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength) };
}
