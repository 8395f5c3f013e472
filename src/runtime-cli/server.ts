// berth-runtime's resident server (started by the thin client, native/src/client.c): one per
// user and --root, listening on <root>/berth-runtime.sock. Each request runs with the same
// command code as the plain command (program.ts), on the client's own fds; the runtime
// instance, its sealed helper copy and caches live on between requests, which is the point.
// It exits after an idle period with no request in flight (a foreground container is a
// request in flight), at SIGTERM, as soon as its socket file is gone (its root removed), or
// when its own code was rebuilt.
import { closeSync, fstatSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createBuiltinRuntime } from '../runtime/factory.js';
import type { BuiltinRuntime } from '../runtime/builtin-runtime.js';
import { FdPassingServer } from '../sys/fd-passing-server.js';
import { LOG_NAME, MAX_REQUEST_PAYLOAD, PID_NAME, REQUEST_MAGIC, SOCKET_NAME } from './protocol.js';
import { ClientConnection } from './server-connection.js';

const DEFAULT_IDLE_MS = 60_000;
const WATCH_MS = 1000;
const MAX_LOG_BYTES = 1 << 20;
/** the client's pipe: one byte once we listen */
const READY_FD = 3;

function idleMs(): number {
  const value = Number(process.env['BERTH_RUNTIME_SERVER_IDLE_MS']);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_IDLE_MS;
}

function signalReady(): void {
  try {
    if (!fstatSync(READY_FD).isFIFO()) return;
    writeSync(READY_FD, 'R');
    closeSync(READY_FD);
  } catch { /* started by hand: nobody waits */ }
}

/** the log is appended to by every server of this root: keep it bounded */
function trimLog(root: string): void {
  const log = path.join(root, LOG_NAME);
  try {
    if (statSync(log).size > MAX_LOG_BYTES) truncateSync(log, 0);
  } catch { /* no log */ }
}

function modifiedAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** Serve until idle or told to stop; resolves once every request in flight has finished. */
export async function serveRuntime(rootArg: string): Promise<void> {
  const root = path.resolve(rootArg);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  trimLog(root);
  const runtimes = new Map<string, BuiltinRuntime>();
  const runtimeFor = (dir: string): BuiltinRuntime => {
    let runtime = runtimes.get(dir);
    if (!runtime) {
      runtime = createBuiltinRuntime({ root: dir, sealedHelper: true });
      runtimes.set(dir, runtime);
    }
    return runtime;
  };
  const pidFile = path.join(root, PID_NAME);
  let inFlight = 0;
  let closing = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => { finished = resolve; });
  const finishIfDrained = (): void => {
    if (!closing || inFlight > 0) return;
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
    } catch { /* gone with the root */ }
    finished();
  };
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    if (inFlight === 0 && !closing) idleTimer = setTimeout(() => { void shutdown(); }, idleMs());
  };

  const server = await FdPassingServer.listen({
    socketPath: path.join(root, SOCKET_NAME), magic: REQUEST_MAGIC, maxFds: 3, maxPayload: MAX_REQUEST_PAYLOAD,
    uid: process.geteuid?.() ?? 0,
    onRequest: (request) => {
      inFlight++;
      clearTimeout(idleTimer);
      void new ClientConnection(request).serve(runtimeFor).finally(() => {
        inFlight--;
        armIdle();
        finishIfDrained();
      });
    },
  });
  // a rebuilt checkout must not be served by the code of the old one: its next client starts a new server
  const entry = process.argv[1];
  const builtAt = entry === undefined ? 0 : modifiedAt(entry);
  const watch = setInterval(() => {
    if (!server.stillBound() || (entry !== undefined && modifiedAt(entry) !== builtAt)) void shutdown();
  }, WATCH_MS);
  async function shutdown(): Promise<void> {
    if (closing) return;
    closing = true;
    clearTimeout(idleTimer);
    clearInterval(watch);
    await server.close();
    finishIfDrained();
  }
  process.on('SIGTERM', () => { void shutdown(); });
  process.on('SIGINT', () => { void shutdown(); });
  process.on('SIGHUP', () => undefined);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  process.stderr.write(`${new Date().toISOString()} berth-runtime server ${process.pid} serving ${root}\n`);
  signalReady();
  armIdle();
  await done;
}
