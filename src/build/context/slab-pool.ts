// Reused 1 MiB buffers a build context is copied into as it arrives. Node's HTTP parser
// hands the body over as thousands of small freshly allocated chunks; keeping them for the
// whole build (for a lazy extraction) let every one survive into V8's old space, which cost
// berthd a mark-compact of its whole heap per cached build (measured: ~40 ms of GC threads
// per build, one mark-compact per build; copied into pooled slabs: almost none). Copied
// here, the chunks die young and a repeated build allocates nothing new.

export const SLAB_BYTES = 1 << 20;

/** Free slabs kept between builds: bounded, and all dropped after a quiet while. */
export class SlabPool {
  private readonly free: Buffer[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * @param maxPooled slabs kept for reuse at most (more in use at once are allocated and dropped)
   * @param idleMs the pool empties when no slab was given back for this long (0: never pools)
   */
  constructor(private readonly maxPooled = 48, private readonly idleMs = 30_000) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  }

  /** Return slabs nobody reads any more (their bytes get overwritten by the next taker). */
  give(slabs: readonly Buffer[]): void {
    if (this.idleMs <= 0) return;
    for (const slab of slabs) {
      if (this.free.length >= this.maxPooled) break;
      if (slab.length === SLAB_BYTES) this.free.push(slab);
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { this.free.length = 0; }, this.idleMs);
    this.idleTimer.unref();
  }

  /** slabs waiting for reuse (tests) */
  get pooled(): number {
    return this.free.length;
  }
}

/** A byte sequence appended chunk by chunk into slabs of a pool. */
export class SlabBuffer {
  private readonly slabs: Buffer[] = [];
  /** bytes used in the last slab */
  private fill = SLAB_BYTES;
  private total = 0;
  private released = false;

  constructor(private readonly pool: SlabPool) {}

  get length(): number {
    return this.total;
  }

  append(chunk: Uint8Array): void {
    if (this.released) throw new Error('slab buffer appended to after release');
    let pos = 0;
    while (pos < chunk.length) {
      if (this.fill === SLAB_BYTES) {
        this.slabs.push(this.pool.take());
        this.fill = 0;
      }
      const slab = this.slabs[this.slabs.length - 1] as Buffer;
      const n = Math.min(SLAB_BYTES - this.fill, chunk.length - pos);
      slab.set(chunk.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
    }
    this.total += chunk.length;
  }

  /** The bytes as views into the slabs (valid until release). */
  views(): Buffer[] {
    if (this.released) throw new Error('slab buffer read after release');
    return this.slabs.map((slab, i) => (i === this.slabs.length - 1 ? slab.subarray(0, this.fill) : slab));
  }

  /** Hand the slabs back to the pool; the views must no longer be used. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.give(this.slabs);
    this.slabs.length = 0;
  }
}
