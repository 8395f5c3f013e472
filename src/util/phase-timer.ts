// Where the time of one operation goes: each phase is reported to a sink (berthd logs it at
// debug level, one line per phase) with its duration in ms. Sequential phases use mark();
// work that overlaps other work (network and snapshot set up concurrently) uses time().
export type PhaseSink = (phase: string, ms: number) => void;

export class PhaseTimer {
  private readonly startedAt = performance.now();
  private last = this.startedAt;

  constructor(private readonly sink: PhaseSink, private readonly prefix = '') {}

  /** the phase `name` ended now: it took the time since the previous mark (or the start) */
  mark(name: string): void {
    const now = performance.now();
    this.sink(this.prefix + name, now - this.last);
    this.last = now;
  }

  /** time `work` on its own clock; it may overlap other phases */
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.sink(this.prefix + name, performance.now() - started);
    }
  }

  /** skip the time since the previous mark (waiting that belongs to no phase) */
  reset(): void {
    this.last = performance.now();
  }

  /** a timer for a sub-operation whose phases are named `<prefix><name>` */
  child(prefix: string): PhaseTimer {
    return new PhaseTimer(this.sink, this.prefix + prefix);
  }

  /** report the time since this timer was made as `name` */
  total(name = 'total'): void {
    this.sink(this.prefix + name, performance.now() - this.startedAt);
  }
}

/** A timer that reports nowhere, for callers that do not trace. */
export function silentTimer(): PhaseTimer {
  return new PhaseTimer(() => undefined);
}

export function formatPhase(phase: string, ms: number): string {
  return `${phase} ${ms.toFixed(1)}ms`;
}
