// A counting semaphore for stages: at most `size` stages execute steps at once. A stage that
// waits for another stage gives its slot back meanwhile, so a chain of stages that each
// wait for the next can never hold every slot and deadlock.
export class StageSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`stage slots must be a positive integer, not ${size}`);
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  /** Run `wait` (waiting for another stage) without holding a slot; take one again after. */
  async without<T>(wait: () => Promise<T>): Promise<T> {
    this.release();
    try {
      return await wait();
    } finally {
      await this.acquire();
    }
  }
}
