// An eventfd the event loop watches: how the kernel notifies cgroup v1 events (memory
// OOM through cgroup.event_control). Node has no public way to poll an arbitrary fd, and a
// blocking read would hold a thread-pool thread per container; libuv's pipe handle polls
// any fd it is given (uv_pipe_open does not check the fd's type), so the eventfd is opened
// as one and read as a stream: each read is the counter's 8 bytes.
import { createRequire } from 'node:module';
import net from 'node:net';
import { BerthError } from '../errors/berth-error.js';
import { errnoName } from './fs-native.js';

interface KoffiFunction { (...args: unknown[]): unknown }
interface Koffi { load(name: string): { func(signature: string): KoffiFunction }; errno(): number }

const require = createRequire(import.meta.url);
const EFD_CLOEXEC = 0o2000000;

let eventfdCall: { eventfd: KoffiFunction; close: KoffiFunction; errno: () => number } | undefined;

function libc(): NonNullable<typeof eventfdCall> {
  if (eventfdCall !== undefined) return eventfdCall;
  const koffi = require('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  eventfdCall = { eventfd: lib.func('int eventfd(unsigned int initval, int flags)'), close: lib.func('int close(int fd)'), errno: () => koffi.errno() };
  return eventfdCall;
}

interface PipeHandle { open(fd: number): number }
type PipeConstructor = new (type: number) => PipeHandle;

/** libuv's pipe handle class (Node's pipe_wrap binding), checked at run time: it is not public API. */
function pipeWrap(): { Pipe: PipeConstructor; socketType: number } {
  const binding: unknown = (process as { binding?: (name: string) => unknown }).binding?.('pipe_wrap');
  if (typeof binding === 'object' && binding !== null && 'Pipe' in binding && typeof binding.Pipe === 'function'
    && 'constants' in binding && typeof binding.constants === 'object' && binding.constants !== null
    && 'SOCKET' in binding.constants && typeof binding.constants.SOCKET === 'number') {
    return { Pipe: binding.Pipe as PipeConstructor, socketType: binding.constants.SOCKET };
  }
  throw new BerthError('unavailable', 'NO_PIPE_WRAP', 'this node cannot watch an eventfd (no pipe_wrap binding)');
}

export interface WatchedEventfd {
  /** the eventfd (for cgroup.event_control); closed with the stream */
  readonly fd: number;
  /** 'data' each time the counter was signalled (8 bytes: how often since the last read) */
  readonly stream: net.Socket;
  close(): void;
}

export function openWatchedEventfd(): WatchedEventfd {
  const c = libc();
  const fd = Number(c.eventfd(0, EFD_CLOEXEC));
  if (fd < 0) throw new BerthError('internal', errnoName(c.errno()), `eventfd: ${errnoName(c.errno())}`);
  let stream: net.Socket;
  try {
    const { Pipe, socketType } = pipeWrap();
    const handle = new Pipe(socketType);
    const status = handle.open(fd);
    if (status !== 0) throw new BerthError('internal', 'EVENTFD_WATCH', `watching eventfd ${fd} failed (uv error ${status})`);
    stream = new net.Socket({ handle, readable: true, writable: false } as net.SocketConstructorOpts);
  } catch (err) {
    c.close(fd);
    throw err;
  }
  // the handle owns the fd from here: destroying the stream closes it
  return { fd, stream, close: () => { stream.destroy(); } };
}
