// Sockets made in another network namespace, for a process that stays in its own: rootless
// berthd keeps its bridges, embedded DNS and the far ends of published ports in one
// "rootless netns" while it serves the API, pulls and binds host ports in the host's.
//
// A network namespace belongs to a thread, and a thread of rootless berthd can enter the
// rootless netns (its user namespace owns it) but never come back to the host's (that needs
// CAP_SYS_ADMIN in the initial user namespace). So one worker thread enters it for good at
// start and makes every socket there: socket(2), setsockopt(2), bind(2) through koffi. The
// call is synchronous for the caller (it waits on a shared word, ~0.1 ms), since an fd is
// process-wide: Node then wraps it (dgram bind({fd}), net.Server listen({fd}),
// new net.Socket({fd}).connect()).
//
// Rootful berthd acts in a container's namespace the other way, insideNetns (netlink.ts): its
// main thread enters, works synchronously and returns, which needs CAP_SYS_ADMIN over the host's
// namespace. The two stay apart on purpose: each strategy is the only one its caller can use
// (no way back for rootless; for rootful, the caller's own synchronous code, a spawn, an nft
// run, a netlink socket, which a worker thread cannot run for it), so one helper would only
// add a branch that every caller takes the same way.
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import { Worker } from 'node:worker_threads';
import { BerthError } from '../errors/berth-error.js';
import { errnoName } from './errno.js';

export interface SocketRequest {
  protocol: 'tcp' | 'udp';
  /** IPv4 address to bind; undefined leaves the socket unbound (connect picks one) */
  address?: string;
  /** 0 = any port */
  port?: number;
  /** IP_TRANSPARENT: `address` may be a foreign one (needs CAP_NET_ADMIN in the namespace) */
  transparent?: boolean;
}

// The worker, as a script (no module file to find from source or from dist). shared[0] is the
// state word (0 busy, 1 done), [1] the fd or -1, [2] the errno, [3] the failed step.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const koffi = require(workerData.koffi);
const lib = koffi.load('libc.so.6');
const setns = lib.func('int setns(int fd, int nstype)');
const socket = lib.func('int socket(int domain, int type, int protocol)');
const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)');
const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
const close = lib.func('int close(int fd)');
const shared = new Int32Array(workerData.shared);
let entered = -1;
try {
  const ns = fs.openSync(workerData.netns, 'r');
  entered = setns(ns, 0x40000000) === 0 ? 0 : koffi.errno();
  fs.closeSync(ns);
} catch (err) { entered = -err.errno || 2; }
function make(r) {
  if (entered !== 0) return [-1, entered, 0];
  const fd = socket(2, (r.protocol === 'tcp' ? 1 : 2) | 0o2000000, 0);
  if (fd < 0) return [-1, koffi.errno(), 1];
  if (r.address === undefined) return [fd, 0, 0];
  const one = Buffer.alloc(4); one.writeInt32LE(1);
  const fail = (step) => { const e = koffi.errno(); close(fd); return [-1, e, step]; };
  if (r.protocol === 'tcp' && setsockopt(fd, 1, 2, one, 4) !== 0) return fail(2);
  if (r.transparent && setsockopt(fd, 0, 19, one, 4) !== 0) return fail(3);
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(2, 0); sa.writeUInt16BE(r.port || 0, 2);
  r.address.split('.').forEach((o, i) => sa.writeUInt8(Number(o), 4 + i));
  if (bind(fd, sa, 16) !== 0) return fail(4);
  return [fd, 0, 0];
}
parentPort.on('message', (r) => {
  const [fd, errno, step] = make(r);
  shared[1] = fd; shared[2] = errno; shared[3] = step;
  Atomics.store(shared, 0, 1);
  Atomics.notify(shared, 0);
});
parentPort.postMessage('ready');
`;

const STEPS = ['setns', 'socket', 'setsockopt SO_REUSEADDR', 'setsockopt IP_TRANSPARENT', 'bind'];
const TIMEOUT_MS = 5000;

/** Makes sockets in one network namespace (the worker holds it while it runs). */
export class NetnsSocketFactory {
  private worker: Worker | undefined;
  private readonly shared = new Int32Array(new SharedArrayBuffer(16));

  constructor(readonly netnsPath: string) {}

  /** Starts the worker in the namespace; resolves once it can take requests. */
  async start(): Promise<void> {
    if (this.worker) return;
    const koffi = createRequire(import.meta.url).resolve('koffi');
    const worker = new Worker(WORKER, { eval: true, workerData: { koffi, netns: this.netnsPath, shared: this.shared.buffer } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    // it must not keep the daemon's event loop alive
    worker.unref();
    this.worker = worker;
  }

  /** A new socket in the namespace, bound as asked; the caller owns the fd. */
  socket(request: SocketRequest): number {
    if (!this.worker) throw new BerthError('internal', 'NETNS_SOCKETS_NOT_STARTED', `no socket maker runs in ${this.netnsPath}`);
    if (request.address !== undefined && !isIPv4(request.address)) {
      throw new BerthError('invalid_argument', 'NOT_IPV4', `cannot bind ${request.address} in another namespace: IPv4 only`);
    }
    Atomics.store(this.shared, 0, 0);
    this.worker.postMessage(request);
    if (Atomics.wait(this.shared, 0, 0, TIMEOUT_MS) === 'timed-out') {
      throw new BerthError('internal', 'NETNS_SOCKET_TIMEOUT', `no socket from ${this.netnsPath} within ${TIMEOUT_MS} ms`);
    }
    const fd = this.shared[1] ?? -1;
    if (fd >= 0) return fd;
    const name = errnoName(this.shared[2] ?? 0);
    const what = request.address !== undefined ? `${request.address}:${request.port ?? 0}` : this.netnsPath;
    const step = STEPS[this.shared[3] ?? 0] ?? 'socket';
    throw new BerthError(name === 'EPERM' || name === 'EACCES' ? 'forbidden' : 'internal', name, `${step} ${what} in ${this.netnsPath}: ${name}`,
      { detail: { step, errno: name, path: this.netnsPath } });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
