// Signals to a container's run: stop (its stop signal, then SIGKILL after the timeout),
// restart, kill, pause and unpause, each under the container's lock.
import { BerthError, conflict, isBerthError } from '../../errors/berth-error.js';
import type { KeyedLock } from './keyed-lock.js';
import type { MonitoredProcess } from './monitor.js';
import type { RuntimeSet } from './ports.js';
import type { ContainerRecord } from './record.js';
import { parseSignal } from './signals.js';
import type { ContainerStore } from './store.js';

export interface RunControlContext {
  store: ContainerStore;
  lock: KeyedLock;
  runtimes: RuntimeSet;
  runningProcess(id: string): MonitoredProcess | undefined;
  emit(record: ContainerRecord, action: string, extra?: Record<string, string>): void;
  cancelRestart(id: string): void;
  /** start a run (the caller holds the lock) */
  startLocked(record: ContainerRecord): Promise<void>;
}

export class RunControl {
  constructor(private readonly ctx: RunControlContext) {}

  async stop(idOrName: string, options: { signal?: string; timeoutSeconds?: number } = {}): Promise<void> {
    const record = this.ctx.store.resolve(idOrName);
    await this.ctx.lock.run(record.Id, async () => {
      const current = this.ctx.store.resolve(record.Id);
      this.ctx.cancelRestart(current.Id);
      if (current.State.Restarting) {
        await this.ctx.store.save({ ...current, ManuallyStopped: true, State: { ...current.State, Status: 'exited', Restarting: false } });
        return;
      }
      if (!current.State.Running) throw new BerthError('not_modified', 'ALREADY_STOPPED', `container ${current.Id} is already stopped`);
      await this.ctx.store.save({ ...current, ManuallyStopped: true });
      await this.stopLocked(current, options);
    });
    // the exit handler queued behind us records the exit (and its die event) before stop answers
    await this.ctx.lock.run(record.Id, async () => undefined);
    this.ctx.emit(record, 'stop');
  }

  async stopLocked(record: ContainerRecord, options: { signal?: string; timeoutSeconds?: number }): Promise<void> {
    const signal = parseSignal(options.signal || record.Config.StopSignal || 'SIGTERM');
    const timeout = options.timeoutSeconds ?? record.Config.StopTimeout ?? 10;
    this.ctx.emit(record, 'kill', { signal: String(signal.number) });
    const exited = await this.killAndWait(record, signal.name, timeout < 0 ? undefined : timeout * 1000);
    if (!exited) {
      this.ctx.emit(record, 'kill', { signal: '9' });
      await this.killAndWait(record, 'SIGKILL', 30_000);
    }
    // the caller emits 'stop' once the exit handler (queued behind this lock) emitted 'die', as dockerd orders them
  }

  /** Signal the container and wait for its exit; false when it did not exit in time. */
  async killAndWait(record: ContainerRecord, signal: string, timeoutMs: number | undefined): Promise<boolean> {
    const process = this.ctx.runningProcess(record.Id);
    if (!process) return true;
    const runtime = this.ctx.runtimes.get(record.Runtime);
    if (record.State.Paused) await runtime.resume(record.Id).catch(() => undefined);
    await runtime.kill(record.Id, signal, { all: signal === 'SIGKILL' }).catch((err: unknown) => {
      if (!isBerthError(err, 'not_found') && !isBerthError(err, 'conflict')) throw err;
    });
    const exited = process.exit.then(() => true);
    if (timeoutMs === undefined) return await exited;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    try {
      return await Promise.race([exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async restart(idOrName: string, options: { signal?: string; timeoutSeconds?: number } = {}): Promise<void> {
    const record = this.ctx.store.resolve(idOrName);
    let stopped = false;
    await this.ctx.lock.run(record.Id, async () => {
      const current = this.ctx.store.resolve(record.Id);
      this.ctx.cancelRestart(current.Id);
      stopped = current.State.Running;
      if (stopped) await this.stopLocked(current, options);
    });
    // the exit handler runs under the lock too: start once it has recorded the exit
    await this.ctx.lock.run(record.Id, async () => {
      if (stopped) this.ctx.emit(record, 'stop');
      const current = this.ctx.store.resolve(record.Id);
      if (current.State.Running) return;
      await this.ctx.startLocked({ ...current, ManuallyStopped: false, State: { ...current.State, Restarting: false } });
    });
    this.ctx.emit(record, 'restart');
  }

  async kill(idOrName: string, signalName: string | undefined): Promise<void> {
    const record = this.ctx.store.resolve(idOrName);
    if (!record.State.Running) throw conflict('NOT_RUNNING', `cannot kill container: ${idOrName}: container ${record.Id} is not running`);
    const signal = parseSignal(signalName || 'SIGKILL');
    const runtime = this.ctx.runtimes.get(record.Runtime);
    if (signal.name === 'SIGKILL' || signal.name === (record.Config.StopSignal ?? 'SIGTERM')) {
      await this.ctx.store.save({ ...record, ManuallyStopped: true });
    }
    await runtime.kill(record.Id, signal.name, { all: signal.name === 'SIGKILL' });
    this.ctx.emit(record, 'kill', { signal: String(signal.number) });
  }

  async pause(idOrName: string): Promise<void> {
    const record = this.ctx.store.resolve(idOrName);
    await this.ctx.lock.run(record.Id, async () => {
      const current = this.ctx.store.resolve(record.Id);
      if (!current.State.Running) throw conflict('NOT_RUNNING', `container ${current.Id} is not running`);
      if (current.State.Paused) throw conflict('ALREADY_PAUSED', `container ${current.Id} is already paused`);
      await this.ctx.runtimes.get(current.Runtime).pause(current.Id);
      const paused = { ...current, State: { ...current.State, Paused: true, Status: 'paused' as const } };
      await this.ctx.store.save(paused);
      this.ctx.emit(paused, 'pause');
    });
  }

  async unpause(idOrName: string): Promise<void> {
    const record = this.ctx.store.resolve(idOrName);
    await this.ctx.lock.run(record.Id, async () => {
      const current = this.ctx.store.resolve(record.Id);
      if (!current.State.Paused) throw conflict('NOT_PAUSED', `container ${current.Id} is not paused`);
      await this.ctx.runtimes.get(current.Runtime).resume(current.Id);
      const running = { ...current, State: { ...current.State, Paused: false, Status: 'running' as const } };
      await this.ctx.store.save(running);
      this.ctx.emit(running, 'unpause');
    });
  }
}
