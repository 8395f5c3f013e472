// The Monitor (DESIGN.md): who holds a running container's stdio, writes its logs and
// sees it exit. For now berthd itself (InProcessMonitor); the interface is what a small
// out-of-process monitor would implement later so containers outlive the daemon.
import type { Readable } from 'node:stream';
import type { Spec } from '../../oci/runtime-spec.js';
import type { ExitStatus, ProcessHandle, Runtime } from '../../runtime/runtime.js';
import type { PhaseTimer } from '../../util/phase-timer.js';
import { JsonFileWriter, type LogOptions } from './logs/json-file.js';
import type { StreamHub } from './stream-hub.js';

export interface MonitorStartRequest {
  id: string;
  bundleDir: string;
  runtime: Runtime;
  tty: boolean;
  openStdin: boolean;
  logFile: string;
  logOptions: LogOptions;
  /** where the runtime's phases go (debug log) */
  trace?: PhaseTimer;
  /** the bundle's config.json as it was written (the built-in runtime does not read it back) */
  spec?: Spec;
}

export interface MonitoredProcess {
  readonly pid: number;
  /** settles after the process exited and its last output reached the log */
  readonly exit: Promise<ExitStatus>;
  readonly logs: JsonFileWriter;
  resize(cols: number, rows: number): Promise<void>;
}

export interface Monitor {
  /** create and start the container process with its stdio wired to hub and log */
  start(request: MonitorStartRequest, hub: StreamHub): Promise<MonitoredProcess>;
}

export class InProcessMonitor implements Monitor {
  async start(request: MonitorStartRequest, hub: StreamHub): Promise<MonitoredProcess> {
    const logs = await JsonFileWriter.open(request.logFile, request.logOptions);
    let handle: ProcessHandle;
    try {
      handle = await request.runtime.create(request.id, request.bundleDir, {
        stdio: 'pipe', trace: request.trace?.child('runtime.create.'), ...(request.spec ? { spec: request.spec } : {}),
      });
    } catch (err) {
      await logs.close();
      throw err;
    }
    const outputDone = this.wire(handle, hub, logs, request.openStdin);
    try {
      await request.runtime.start(request.id, { trace: request.trace?.child('runtime.start.') });
    } catch (err) {
      await request.runtime.delete(request.id, { force: true }).catch(() => undefined);
      hub.processEnded();
      await logs.close();
      throw err;
    }
    const exit = handle.exit.then(async (status) => {
      await outputDone;
      hub.processEnded();
      await logs.close();
      return status;
    });
    const io = handle.io;
    return {
      pid: handle.pid,
      exit,
      logs,
      resize: async (cols, rows) => { if (io.kind === 'terminal') await io.resize(cols, rows); },
    };
  }

  /** Pipe output into the log and to attached clients; resolves when output has ended. */
  private wire(handle: ProcessHandle, hub: StreamHub, logs: JsonFileWriter, openStdin: boolean): Promise<void> {
    const io = handle.io;
    if (io.kind === 'none') { hub.connectStdin(undefined); return Promise.resolve(); }
    if (io.kind === 'terminal') {
      hub.connectStdin(openStdin ? io.terminal : undefined);
      return pump(io.terminal, 'stdout', hub, logs);
    }
    if (openStdin) hub.connectStdin(io.stdin);
    else { io.stdin.end(); hub.connectStdin(undefined); }
    return Promise.all([pump(io.stdout, 'stdout', hub, logs), pump(io.stderr, 'stderr', hub, logs)]).then(() => undefined);
  }
}

function pump(source: Readable, stream: 'stdout' | 'stderr', hub: StreamHub, logs: JsonFileWriter): Promise<void> {
  return new Promise((resolve) => {
    source.on('data', (chunk: Buffer) => {
      hub.emit(stream, chunk);
      if (!logs.write(stream, chunk)) {
        source.pause();
        logs.onDrain(() => source.resume());
      }
    });
    // a pty master reports EIO when the last slave closes: that is the end of output
    source.on('error', () => resolve());
    source.on('end', () => resolve());
    source.on('close', () => resolve());
  });
}
