// Worker threads that unpack layer blobs (unpack-worker.ts), one layer per thread at a time:
// a layer's whole unpack (read, decompress, hash, parse, write files) runs on one thread
// without a promise per entry or a fresh buffer per chunk, off the event loop; with cores to
// spare, layers of an image run on several at once. Started when first needed (never more
// than layers waiting), unref'd while idle so that no process waits for them, and stopped
// after a minute without work.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { internal } from '../../errors/berth-error.js';
import { errorFromData, type ErrorData, type UnpackOutcome, type UnpackTask } from './unpack-blob.js';

const IDLE_STOP_MS = 60_000;
const MAX_THREADS = 4;

/** Bundled programs carry the worker as layer-unpack-worker.cjs beside them; otherwise it is this module's sibling. */
export const BUNDLED_WORKER_NAME = 'layer-unpack-worker.cjs';

interface Job { task: UnpackTask; resolve: (outcome: UnpackOutcome) => void; reject: (err: Error) => void }

interface Thread { worker: Worker; job: Job | undefined; jobId: number; idleTimer: NodeJS.Timeout | undefined }

export class UnpackPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;

  constructor(private readonly maxThreads = defaultThreads()) {}

  /** Unpack one blob on a worker thread; rejects with the error the worker's unpack threw. */
  async run(task: UnpackTask): Promise<UnpackOutcome> {
    return await new Promise<UnpackOutcome>((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  /** Stop every thread (tests; a process may also just exit). */
  async close(): Promise<void> {
    await Promise.all(this.threads.splice(0).map(async (t) => { await t.worker.terminate(); }));
  }

  private dispatch(): void {
    for (;;) {
      const job = this.queue[0];
      if (job === undefined) return;
      let thread = this.threads.find((t) => t.job === undefined);
      if (thread === undefined && this.threads.length < this.maxThreads) thread = this.spawn();
      if (thread === undefined) return;
      this.queue.shift();
      this.start(thread, job);
    }
  }

  private start(thread: Thread, job: Job): void {
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    thread.idleTimer = undefined;
    thread.job = job;
    thread.jobId = this.nextId++;
    thread.worker.ref();
    thread.worker.postMessage({ id: thread.jobId, task: job.task });
  }

  private spawn(): Thread {
    const worker = startWorker(workerFile());
    const thread: Thread = { worker, job: undefined, jobId: -1, idleTimer: undefined };
    this.threads.push(thread);
    worker.on('message', (message: { id: number; outcome?: UnpackOutcome; error?: ErrorData }) => {
      const job = thread.job;
      if (job === undefined || message.id !== thread.jobId) return;
      this.finished(thread);
      if (message.error !== undefined) job.reject(errorFromData(message.error));
      else if (message.outcome !== undefined) job.resolve(message.outcome);
      else job.reject(internal('UNPACK_WORKER_FAILED', 'layer unpack worker answered without an outcome'));
    });
    const lost = (why: string, cause?: unknown): void => {
      const index = this.threads.indexOf(thread);
      if (index < 0) return;
      this.threads.splice(index, 1);
      if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
      const job = thread.job;
      thread.job = undefined;
      job?.reject(internal('UNPACK_WORKER_FAILED', `layer unpack worker stopped: ${why}`, cause === undefined ? undefined : { cause }));
      this.dispatch();
    };
    worker.on('error', (err) => { lost(err.message, err); });
    worker.on('exit', (code) => { lost(`exit code ${code}`); });
    return thread;
  }

  private finished(thread: Thread): void {
    thread.job = undefined;
    thread.worker.unref();
    thread.idleTimer = setTimeout(() => {
      const index = this.threads.indexOf(thread);
      if (index >= 0 && thread.job === undefined) {
        this.threads.splice(index, 1);
        void thread.worker.terminate();
      }
    }, IDLE_STOP_MS);
    thread.idleTimer.unref();
    this.dispatch();
  }
}

/**
 * One per two cores, up to MAX_THREADS; BERTH_UNPACK_THREADS (1-16) overrides it. On 2 cores
 * one thread measured best: a second one unpacking beside it cost more CPU (its start-up, its
 * cold JIT, the kernel's file creation in two block groups at once) than it saved.
 */
function defaultThreads(): number {
  const wanted = Number(process.env.BERTH_UNPACK_THREADS);
  if (Number.isInteger(wanted) && wanted >= 1 && wanted <= 16) return wanted;
  return Math.max(1, Math.min(Math.floor(availableParallelism() / 2), MAX_THREADS));
}

/** The worker's file: beside a bundle, or this module's sibling (.js from dist, .ts under tsx). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const bundled = path.join(path.dirname(here), BUNDLED_WORKER_NAME);
  if (existsSync(bundled)) return bundled;
  return path.join(path.dirname(here), `unpack-worker${path.extname(here)}`);
}

function startWorker(file: string): Worker {
  if (!file.endsWith('.ts')) return new Worker(file);
  // from source under tsx (tests run that way from the repository): the thread registers tsx's loader first
  return new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`,
    { eval: true });
}
