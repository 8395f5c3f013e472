// The health monitor of running containers: probes on docker's schedule (the first after
// one interval; StartInterval while "starting" inside the start period), results recorded
// in State.Health, `health_status: ...` events on changes, and berth's --health-on-failure
// remediation once a container turns unhealthy. Checks end when the run ends.
import type { ContainerRecord } from '../record.js';
import { healthOnFailureOf, healthProbeOf, type HealthOnFailure, type HealthProbe } from './config.js';
import { runProbe, type ProbeRunner } from './probe.js';
import { applyProbeResult, type HealthState } from './state.js';

/** What the monitor needs from the container service. */
export interface HealthHost {
  /** the container's record, undefined once removed */
  record(id: string): ContainerRecord | undefined;
  /** the exec side for one container */
  probeRunner(id: string): ProbeRunner;
  /**
   * Change State.Health under the container's lock, only while the run that started at
   * `startedAt` lasts; the saved record, or undefined when that run is over.
   */
  updateHealth(id: string, startedAt: string, change: (health: HealthState) => HealthState): Promise<ContainerRecord | undefined>;
  emit(record: ContainerRecord, action: string): void;
  remediate(id: string, action: Exclude<HealthOnFailure, 'none'>): Promise<void>;
  warn(message: string): void;
}

interface Watch {
  startedAt: string;
  startedAtMs: number;
  probe: HealthProbe;
  timer: NodeJS.Timeout | undefined;
  ended: boolean;
}

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly host: HealthHost) {}

  /** A run began (State is running): schedule its checks, if it has any. */
  runStarted(record: ContainerRecord): void {
    this.runEnded(record.Id);
    const probe = healthProbeOf(record.Config);
    if (!probe) return;
    const watch: Watch = { startedAt: record.State.StartedAt, startedAtMs: Date.parse(record.State.StartedAt), probe, timer: undefined, ended: false };
    this.watches.set(record.Id, watch);
    this.schedule(record.Id, watch, 'starting');
  }

  /** The run ended (exit, stop, remove, daemon shutdown): no more checks. */
  runEnded(id: string): void {
    const watch = this.watches.get(id);
    if (!watch) return;
    watch.ended = true;
    clearTimeout(watch.timer);
    this.watches.delete(id);
  }

  /** Containers with checks scheduled (for tests and shutdown). */
  watching(): string[] {
    return [...this.watches.keys()];
  }

  private schedule(id: string, watch: Watch, status: HealthState['Status']): void {
    if (watch.ended) return;
    const delay = nextDelayMs(watch.probe, status, Date.now() - watch.startedAtMs);
    watch.timer = setTimeout(() => { void this.check(id, watch); }, delay);
    watch.timer.unref();
  }

  private async check(id: string, watch: Watch): Promise<void> {
    const record = this.host.record(id);
    if (watch.ended || !record || !record.State.Running || record.State.StartedAt !== watch.startedAt) {
      this.runEnded(id);
      return;
    }
    const status = record.State.Health?.Status ?? 'starting';
    if (record.State.Paused) {
      this.schedule(id, watch, status);
      return;
    }
    const entry = await runProbe(this.host.probeRunner(id), watch.probe.args, watch.probe.timeoutMs);
    if (watch.ended) return;
    let before: HealthState['Status'] = status;
    const saved = await this.host.updateHealth(id, watch.startedAt, (health) => {
      before = health.Status;
      return applyProbeResult(health, { entry, sinceStartMs: Date.parse(entry.Start) - watch.startedAtMs },
        { retries: watch.probe.retries, startPeriodMs: watch.probe.startPeriodMs });
    }).catch((err: unknown) => { this.host.warn(`health check of ${id.slice(0, 12)}: ${String(err)}`); return undefined; });
    const after = saved?.State.Health?.Status;
    if (!saved || !after || watch.ended) return;
    if (after !== before) this.host.emit(saved, `health_status: ${after}`);
    const action = healthOnFailureOf(saved.HostConfig.HealthOnFailure);
    if (after === 'unhealthy' && before !== 'unhealthy' && action !== 'none') {
      this.runEnded(id);
      await this.host.remediate(id, action).catch((err: unknown) =>
        this.host.warn(`health-on-failure ${action} of ${id.slice(0, 12)}: ${String(err)}`));
      return;
    }
    this.schedule(id, watch, after);
  }
}

/** docker's getInterval: StartInterval while starting inside the start period, else Interval. */
export function nextDelayMs(probe: HealthProbe, status: HealthState['Status'], sinceStartMs: number): number {
  if (sinceStartMs < probe.startPeriodMs && status === 'starting') return probe.startIntervalMs;
  return probe.intervalMs;
}
