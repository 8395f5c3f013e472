// Sockets made in another network namespace, for a process that stays in its own: rootless
// berthd keeps its bridges, embedded DNS and published ports' far ends in one "rootless
// netns" while it serves the API, pulls and binds host ports in the host's. The calling
// thread enters the namespace with setns(2) (a network namespace is per thread, so this is
// allowed in a multi-threaded process), calls socket(2) and bind(2), and leaves again, all in
// one synchronous call: no JavaScript runs in between. The fd is then handed to Node
// (dgram bind({fd}), net.Server listen({fd}), new net.Socket({fd}).connect()).
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import { BerthError } from '../errors/berth-error.js';
import { errnoName } from './fs-native.js';

interface KoffiFunction { (...args: unknown[]): unknown }
interface KoffiLib { func(signature: string): KoffiFunction }
interface Koffi { load(name: string): KoffiLib; errno(): number }

interface SocketCalls {
  setns: KoffiFunction; socket: KoffiFunction; bind: KoffiFunction; setsockopt: KoffiFunction; close: KoffiFunction;
  errno: () => number;
}

const require = createRequire(import.meta.url);
let calls: SocketCalls | undefined;

function load(): SocketCalls {
  if (calls) return calls;
  const koffi = require('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  calls = {
    setns: lib.func('int setns(int fd, int nstype)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    close: lib.func('int close(int fd)'),
    errno: () => koffi.errno(),
  };
  return calls;
}

const CLONE_NEWNET = 0x40000000;
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SOL_IP = 0;
/** bind to an address that is not local (the client's), as transparent proxies do */
const IP_TRANSPARENT = 19;

export interface SocketRequest {
  protocol: 'tcp' | 'udp';
  /** IPv4 address to bind; undefined leaves the socket unbound (connect picks one) */
  address?: string;
  /** 0 = any port */
  port?: number;
  /** IP_TRANSPARENT: `address` may be a foreign one (needs CAP_NET_ADMIN in the namespace) */
  transparent?: boolean;
}

/** An open handle on a network namespace file (the namespace stays reachable while it is open). */
export class NetnsSocketFactory {
  private target: number | undefined;
  private own: number | undefined;

  constructor(readonly netnsPath: string) {}

  /** A new socket in the namespace, bound as asked; the caller owns the fd. */
  socket(request: SocketRequest): number {
    const c = load();
    this.target ??= openSync(this.netnsPath, 'r');
    // the thread's own namespace, to come back to (berthd's main thread is in the host's)
    this.own ??= openSync('/proc/thread-self/ns/net', 'r');
    if (Number(c.setns(this.target, CLONE_NEWNET)) !== 0) throw syscallFailed('setns', this.netnsPath, c.errno());
    let fd = -1;
    try {
      fd = Number(c.socket(AF_INET, (request.protocol === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
      if (fd < 0) throw syscallFailed('socket', this.netnsPath, c.errno());
      if (request.address !== undefined) bindSocket(c, fd, request);
      return fd;
    } catch (err) {
      if (fd >= 0) c.close(fd);
      throw err;
    } finally {
      // staying in the other namespace would move every later socket and child of this thread
      if (Number(c.setns(this.own, CLONE_NEWNET)) !== 0) {
        throw new BerthError('internal', 'SETNS_BACK_FAILED', `cannot return from network namespace ${this.netnsPath}: ${errnoName(c.errno())}`);
      }
    }
  }

  close(): void {
    for (const fd of [this.target, this.own]) if (fd !== undefined) closeSync(fd);
    this.target = undefined;
    this.own = undefined;
  }
}

function bindSocket(c: SocketCalls, fd: number, request: SocketRequest): void {
  const address = request.address ?? '0.0.0.0';
  if (!isIPv4(address)) throw new BerthError('invalid_argument', 'NOT_IPV4', `cannot bind ${address} in another namespace: IPv4 only`);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  if (request.protocol === 'tcp' && Number(c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4)) !== 0) throw syscallFailed('setsockopt SO_REUSEADDR', address, c.errno());
  if (request.transparent && Number(c.setsockopt(fd, SOL_IP, IP_TRANSPARENT, one, 4)) !== 0) {
    throw syscallFailed('setsockopt IP_TRANSPARENT', address, c.errno());
  }
  const sockaddr = Buffer.alloc(16);
  sockaddr.writeUInt16LE(AF_INET, 0);
  sockaddr.writeUInt16BE(request.port ?? 0, 2);
  address.split('.').forEach((octet, i) => sockaddr.writeUInt8(Number(octet), 4 + i));
  if (Number(c.bind(fd, sockaddr, 16)) !== 0) throw syscallFailed('bind', `${address}:${request.port ?? 0}`, c.errno());
}

function syscallFailed(call: string, what: string, errno: number): BerthError {
  const name = errnoName(errno);
  return new BerthError(name === 'EPERM' || name === 'EACCES' ? 'forbidden' : 'internal', name, `${call} ${what}: ${name}`,
    { detail: { step: call, errno: name, path: what } });
}
