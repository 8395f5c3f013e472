// `start` of a created container: its init is blocked opening the exec fifo for writing
// (FIFO_WAIT, native/src/main.c); opening the read end lets it go on to write one byte and
// exec the user program. The read end is opened without blocking and read through the
// event loop (a pipe handle polled by libuv), not on the thread pool: the blocking open and
// read there cost two thread hand-offs each way (~1-2 ms of every start on this machine).
import { constants as fsConstants, openSync, closeSync } from 'node:fs';
import net from 'node:net';

const ALIVE_POLL_MS = 50;
/**
 * An init found dead may have written its byte (and exec'd and exited) before the read end
 * was polled: timers run before I/O in a loop turn. Its byte is in the pipe then, and read
 * within this grace; only an init that never wrote is reported dead.
 */
const DEAD_GRACE_MS = 20;

/**
 * Release the init waiting on `fifo` and wait for its byte. Resolves true when it came,
 * false when the init died first (before opening its end, or before writing): `alive`
 * is asked every 50 ms meanwhile, since a writer that never opens its end makes no event.
 */
export async function releaseExecFifo(fifo: string, alive: () => Promise<boolean>, pollMs = ALIVE_POLL_MS): Promise<boolean> {
  // O_NONBLOCK: the open does not wait for a writer (the init's blocked open is released by it)
  const fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  let reader: net.Socket;
  try {
    reader = new net.Socket({ fd, readable: true, writable: false });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return await new Promise<boolean>((resolve) => {
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (byteCame: boolean): void => {
      if (settled) return;
      settled = true;
      // pending timers would hold a short-lived caller (berth-runtime start/run)
      clearInterval(poll);
      clearTimeout(grace);
      reader.destroy();
      resolve(byteCame);
    };
    const poll = setInterval(() => {
      void alive().then((yes) => {
        if (yes || grace !== undefined) return;
        clearInterval(poll);
        grace = setTimeout(() => { finish(false); }, DEAD_GRACE_MS);
      }, () => undefined);
    }, pollMs);
    reader.once('data', () => { finish(true); });
    // the init closed its end without writing (it died), or the read failed
    reader.once('end', () => { finish(false); });
    reader.once('error', () => { finish(false); });
  });
}
