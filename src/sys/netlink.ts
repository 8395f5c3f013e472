// rtnetlink from berthd itself (socket(2) through koffi): a container's veth, addresses and
// routes without spawning ip, nsenter or unshare (each exec is 4-6 ms here, and the old path
// ran five per attach). A netlink socket talks to the network namespace of the thread that
// made it, so a socket for a container's namespace is made after a setns() of the calling
// (main) thread, which then returns to its own namespace at once: no JavaScript runs there.
// Requests are synchronous (the kernel answers within send(), in tens of microseconds), but
// a link's deletion, which waits for RCU grace periods (15-40 ms), goes on a koffi thread.
// Rootless berthd cannot come back from its rootless netns, so it makes sockets there from a
// worker thread that enters for good instead (netns-sockets.ts).
import { closeSync, openSync } from 'node:fs';
import { BerthError, internal } from '../errors/berth-error.js';
import { errnoName } from './errno.js';
import { lazyLibc, type KoffiFunction } from './koffi-libc.js';
import {
  defaultRoute, linkByName, newAddress, newVeth, NLM_F, NLMSG_ERROR, parseReplies, request, RTM, setHairpin, setLinkUp, type VethSpec,
} from './netlink-messages.js';

interface NetlinkLibc {
  socket: KoffiFunction; send: KoffiFunction; recv: KoffiFunction; close: KoffiFunction;
  unshare: KoffiFunction; setns: KoffiFunction; mount: KoffiFunction;
  errno: () => number;
}

const libc = lazyLibc<NetlinkLibc>((func) => ({
  socket: func('int socket(int domain, int type, int protocol)'),
  send: func('long send(int fd, const void *buf, size_t len, int flags)'),
  recv: func('long recv(int fd, void *buf, size_t len, int flags)'),
  close: func('int close(int fd)'),
  unshare: func('int unshare(int flags)'),
  setns: func('int setns(int fd, int nstype)'),
  mount: func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
}));

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const MSG_DONTWAIT = 0x40;
const CLONE_NEWNET = 0x40000000;
const MS_BIND = 4096;
const RECV_SIZE = 65536;
const OWN_NETNS = '/proc/thread-self/ns/net';

function failed(step: string, errno: number, subject: string): BerthError {
  const name = errnoName(errno);
  return new BerthError('internal', name, `${step} ${subject}: ${name}`, { detail: { step, errno: name, path: subject } });
}

async function callAsync(fn: KoffiFunction, ...args: unknown[]): Promise<number> {
  return await new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: unknown) => { if (err) reject(err instanceof Error ? err : new Error(String(err))); else resolve(Number(result)); });
  });
}

/** One NETLINK_ROUTE socket, bound to the network namespace it was made in. */
export class RouteSocket {
  private seq = 0;
  private closed = false;

  private constructor(private readonly fd: number) {}

  /** a socket in the namespace of the calling thread */
  static open(): RouteSocket {
    const c = libc();
    const fd = Number(c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (fd < 0) throw failed('socket', c.errno(), 'netlink');
    return new RouteSocket(fd);
  }

  /** a socket in the namespace bound at `netnsFile` (a container's) */
  static openIn(netnsFile: string): RouteSocket {
    return insideNetns(netnsFile, () => RouteSocket.open());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().close(this.fd);
  }

  createVeth(spec: VethSpec): void {
    this.call(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, newVeth(spec), 'add veth', spec.name);
  }

  setUp(name: string, masterIndex?: number): void {
    this.call(RTM.NEWLINK, 0, setLinkUp(name, masterIndex), 'set up', name);
  }

  setHairpin(name: string): void {
    this.call(RTM.NEWLINK, 0, setHairpin(name), 'set hairpin on', name);
  }

  linkIndex(name: string): number {
    const index = this.call(RTM.GETLINK, 0, linkByName(name), 'find link', name);
    if (index === undefined) throw internal('NETLINK_NO_REPLY', `find link ${name}: the kernel sent no link`);
    return index;
  }

  /** false when there was no such link; the kernel's wait runs off the event loop */
  async deleteLink(name: string): Promise<boolean> {
    try {
      const seq = this.nextSeq();
      const message = request(RTM.DELLINK, 0, seq, linkByName(name));
      const c = libc();
      if (await callAsync(c.send, this.fd, message, message.length, 0) < 0) throw failed('delete link', c.errno(), name);
      this.readAck(seq, 'delete link', name);
      return true;
    } catch (err) {
      if (err instanceof BerthError && err.code === 'ENODEV') return false;
      throw err;
    }
  }

  addAddress(index: number, cidr: string, options: { nodad?: boolean } = {}): void {
    this.call(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, newAddress(index, cidr, options), 'add address', cidr);
  }

  replaceDefaultRoute(index: number, gateway: string): void {
    this.call(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.REPLACE, defaultRoute(index, gateway), 'add default route via', gateway);
  }

  private nextSeq(): number {
    if (this.closed) throw internal('NETLINK_CLOSED', 'the netlink socket is closed');
    return ++this.seq;
  }

  /**
   * Sends one request and reads to its ack, on this thread: these take the kernel tens of
   * microseconds, less than a hop to another thread would. Returns the index a GETLINK answers.
   */
  private call(type: number, flags: number, body: Buffer, step: string, subject: string): number | undefined {
    const seq = this.nextSeq();
    const message = request(type, flags, seq, body);
    const c = libc();
    if (Number(c.send(this.fd, message, message.length, 0)) < 0) throw failed(step, c.errno(), subject);
    return this.readAck(seq, step, subject);
  }

  private readAck(seq: number, step: string, subject: string): number | undefined {
    const c = libc();
    let index: number | undefined;
    const buffer = Buffer.alloc(RECV_SIZE);
    for (;;) {
      // rtnetlink answers inside send(): the ack is queued by now, so the read never waits
      const got = Number(c.recv(this.fd, buffer, buffer.length, MSG_DONTWAIT));
      if (got < 0) throw failed(step, c.errno(), subject);
      for (const reply of parseReplies(buffer.subarray(0, got))) {
        if (reply.seq !== seq) continue;
        if (reply.index !== undefined) index = reply.index;
        if (reply.type !== NLMSG_ERROR) continue;
        if (reply.error !== undefined && reply.error < 0) throw failed(step, -reply.error, subject);
        return index;
      }
    }
  }
}

/**
 * Runs `work` (synchronous: nothing else runs on this thread meanwhile) with the calling
 * thread in the network namespace at `netnsFile`, and returns it to its own (a thread that
 * could not return would open later sockets in a container's namespace: loudly reported).
 */
export function insideNetns<T>(netnsFile: string, work: () => T): T {
  const c = libc();
  const own = openSync(OWN_NETNS, 'r');
  try {
    const target = openSync(netnsFile, 'r');
    try {
      if (Number(c.setns(target, CLONE_NEWNET)) !== 0) throw failed('setns', c.errno(), netnsFile);
    } finally {
      closeSync(target);
    }
    try {
      return work();
    } finally {
      returnTo(own);
    }
  } finally {
    closeSync(own);
  }
}

/**
 * A new network namespace bound at `netnsFile` (an existing empty file), as `unshare
 * --net=FILE` makes it, with a route socket in it and its loopback up.
 */
export function createNetns(netnsFile: string): RouteSocket {
  const c = libc();
  const own = openSync(OWN_NETNS, 'r');
  let socket: RouteSocket;
  try {
    if (Number(c.unshare(CLONE_NEWNET)) !== 0) throw failed('unshare', c.errno(), netnsFile);
    try {
      if (Number(c.mount(OWN_NETNS, netnsFile, null, MS_BIND, null)) !== 0) throw failed('bind mount netns on', c.errno(), netnsFile);
      socket = RouteSocket.open();
    } finally {
      returnTo(own);
    }
  } finally {
    closeSync(own);
  }
  try {
    socket.setUp('lo');
    return socket;
  } catch (err) {
    socket.close();
    throw err;
  }
}

function returnTo(own: number): void {
  const c = libc();
  if (Number(c.setns(own, CLONE_NEWNET)) !== 0) {
    const err = failed('setns back to berthd\'s own', c.errno(), 'network namespace');
    process.emitWarning(err.message);
    throw err;
  }
}
