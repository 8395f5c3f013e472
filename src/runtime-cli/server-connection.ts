// One client of berth-runtime's resident server: its command runs on its own fds 0-2 (passed
// over the socket), in its cwd and environment; its signals reach the foreground container;
// it learns the exit code (or the signal to die by) at the end.
import { closeSync, readlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { isatty } from 'node:tty';
import type { FdRequest } from '../sys/fd-passing-server.js';
import type { BuiltinRuntime } from '../runtime/builtin-runtime.js';
import type { ProcessHandle, StdioFds } from '../runtime/runtime.js';
import { canReproduce, readCallerAttributes, type CallerAttributes } from './caller-process.js';
import type { CallerIo } from './context.js';
import { runCommandLine } from './program.js';
import { CLIENT_MESSAGES, SERVER_MESSAGES, decodeRequest, encodeMessage, MessageReader, type Message } from './protocol.js';

const SIGKILL = 9;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Write all of `text` to a caller's fd (it may be non-blocking: wait out EAGAIN); a closed reader ends it. */
async function writeAll(fd: number, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length;) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      await sleep(2);
    }
  }
}

/** the namespaces that give a command line its meaning: paths, networks, pids, ids */
const NAMESPACES = ['mnt', 'net', 'pid', 'user'] as const;

function inOurNamespaces(pid: number): boolean {
  try {
    return NAMESPACES.every((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`) === readlinkSync(`/proc/self/ns/${ns}`));
  } catch {
    return false;
  }
}

export class ClientConnection {
  private readonly socket: net.Socket;
  private readonly reader = new MessageReader();
  private readonly output: Array<{ fd: number; text: string }> = [];
  private readonly pendingSignals: number[] = [];
  private signalTarget: ((signal: number) => void) | undefined;
  private resizeTarget: ((cols: number, rows: number) => void) | undefined;
  private windowSize: { cols: number; rows: number } | undefined;
  private gone = false;
  /** a foreground process has come and gone: later signals have no one to go to */
  private foregroundEnded = false;

  constructor(private readonly request: FdRequest) {
    this.socket = new net.Socket({ fd: request.connection, readable: true, writable: true });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => { for (const message of this.reader.push(chunk)) this.onMessage(message); });
    this.socket.on('close', () => { this.callerGone(); });
  }

  /** Run the client's command to its end; never rejects. */
  async serve(runtimeFor: (root: string) => BuiltinRuntime): Promise<void> {
    const caller = readCallerAttributes(this.request.peer.pid);
    const own = readCallerAttributes('self');
    if (!inOurNamespaces(this.request.peer.pid) || !caller || !own || !canReproduce(caller, own)) {
      // its paths, networks, cgroup or limits are not ours: unanswered, the client runs the plain command itself
      this.socket.destroy();
      for (const fd of this.request.fds) closeSync(fd);
      return;
    }
    this.socket.write(encodeMessage(SERVER_MESSAGES.ACCEPTED, process.pid));
    let code = 1;
    try {
      const [stdin, stdout, stderr, ...extra] = this.request.fds;
      if (stdin === undefined || stdout === undefined || stderr === undefined || extra.length > 0) {
        throw new Error(`runtime request passed ${this.request.fds.length} fds, expected 3`);
      }
      const { cwd, argv, env } = decodeRequest(this.request.payload);
      code = await runCommandLine(argv, this.callerIo(cwd, env, [stdin, stdout, stderr], caller), runtimeFor);
    } catch (err) {
      this.output.push({ fd: 2, text: `berth-runtime: ${err instanceof Error ? err.message : String(err)}\n` });
    }
    await this.flushOutput();
    const undelivered = this.pendingSignals[0];
    this.socket.end(undelivered === undefined ? encodeMessage(SERVER_MESSAGES.EXIT, code) : encodeMessage(SERVER_MESSAGES.DIE, undelivered));
    for (const fd of this.request.fds) closeSync(fd);
  }

  private callerIo(cwd: string, env: Record<string, string>, stdio: StdioFds, caller: CallerAttributes): CallerIo {
    return {
      cwd, env, stdio, inherit: { umask: caller.umask, rlimits: caller.rlimits },
      out: (text) => { this.output.push({ fd: stdio[1], text }); },
      err: (text) => { this.output.push({ fd: stdio[2], text }); },
      foreground: (handle) => this.foreground(handle, stdio),
    };
  }

  private async foreground(handle: ProcessHandle, stdio: StdioFds): Promise<number> {
    const resize = handle.io.kind === 'none' ? handle.io.resize : undefined;
    if (resize) {
      // the shim relays the pty to the caller's fds; the client owns the terminal's mode
      this.resizeTarget = (cols, rows) => { void resize(cols, rows).catch(() => undefined); };
      if (this.windowSize) this.resizeTarget(this.windowSize.cols, this.windowSize.rows);
      if (isatty(stdio[0])) this.socket.write(encodeMessage(SERVER_MESSAGES.RAW));
    }
    this.signalTarget = (signal) => {
      try { process.kill(handle.pid, signal); } catch { /* it has exited */ }
    };
    for (const signal of this.pendingSignals.splice(0)) this.signalTarget(signal);
    if (this.gone) this.signalTarget(SIGKILL);
    try {
      return (await handle.exit).exitCode;
    } finally {
      this.signalTarget = undefined;
      this.resizeTarget = undefined;
      this.foregroundEnded = true;
    }
  }

  private onMessage(message: Message): void {
    if (message.type === CLIENT_MESSAGES.SIGNAL && message.a >= 1 && message.a <= 64) {
      // before a foreground process exists they wait for one; undelivered, the client dies by the first
      if (this.signalTarget) this.signalTarget(message.a);
      else if (!this.foregroundEnded) this.pendingSignals.push(message.a);
    } else if (message.type === CLIENT_MESSAGES.RESIZE) {
      this.windowSize = { cols: message.a & 0xffff, rows: message.b & 0xffff };
      this.resizeTarget?.(this.windowSize.cols, this.windowSize.rows);
    }
  }

  /** The client is gone (killed, or its terminal closed): its foreground container goes too. */
  private callerGone(): void {
    this.gone = true;
    this.signalTarget?.(SIGKILL);
  }

  private async flushOutput(): Promise<void> {
    for (const { fd, text } of this.output.splice(0)) await writeAll(fd, text);
  }
}
