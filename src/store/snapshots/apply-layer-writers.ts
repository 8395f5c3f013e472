// Regular files of a layer written by worker threads, so that file creation (the costly part
// of unpacking: ext4 inode allocation, page-cache writes) runs on other cores while the
// calling thread decompresses, hashes and parses the tar, as GNU tar gets its gzip for free
// in a second process.
//
// The workers only ever create NEW regular files (O_CREAT|O_EXCL|O_NOFOLLOW) at paths whose
// parents the caller has already checked, and set owner, mode and times through the fd. The
// caller (apply-layer.ts) keeps every other operation (directories, links, whiteouts,
// removals) on its own thread and calls flush() before anything that removes or links, so
// no checked parent can change under a pending write.
//
// Content travels in batches: a shared buffer (a few per writer, reused) with the bytes of
// many small files or a slice of a big one, and a list of per-file steps.
import { Worker } from 'node:worker_threads';
import { internal, invalidArgument } from '../../errors/berth-error.js';

export interface FileWrite {
  /** the tar entry's name, for errors */
  entry: string;
  path: string;
  /** permission bits given to open(2) */
  createMode: number;
  /** fchown to these ids, or -1 for no fchown */
  uid: number;
  gid: number;
  /** fchmod to this mode (after the fchown), or -1 when open's mode is already right */
  chmod: number;
  mtime: number;
}

/** One step of a file in a batch: create (first), write bytes [start, end), finish (last). */
interface Step extends FileWrite { id: number; first: boolean; last: boolean; start: number; end: number }

interface Reply { seq: number; error?: { entry: string; code?: string; message: string } }

const BATCH_BYTES = 1 << 20;
const BATCH_FILES = 256;
/** batches sent and not yet written, per writer, before the caller waits */
const MAX_SLABS = 8;

// The worker, as a script (no module file to find from source, dist or a bundle).
const WORKER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const fds = new Map();
let failed = false;
function step(s, data) {
  let fd = fds.get(s.id);
  if (s.first) {
    fd = fs.openSync(s.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, s.createMode);
    fds.set(s.id, fd);
  }
  for (let off = s.start; off < s.end;) off += fs.writeSync(fd, data, off, s.end - off);
  if (!s.last) return;
  fds.delete(s.id);
  try {
    if (s.uid >= 0) fs.fchownSync(fd, s.uid, s.gid);
    if (s.chmod >= 0) fs.fchmodSync(fd, s.chmod);
    fs.futimesSync(fd, s.mtime, s.mtime);
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on('message', (batch) => {
  if (failed) return parentPort.postMessage({ seq: batch.seq });
  const data = new Uint8Array(batch.slab);
  let current = '';
  try {
    for (const s of batch.steps) { current = s.entry; step(s, data); }
    parentPort.postMessage({ seq: batch.seq });
  } catch (err) {
    failed = true;
    for (const fd of fds.values()) fs.closeSync(fd);
    fds.clear();
    parentPort.postMessage({ seq: batch.seq, error: { entry: current, code: err.code, message: err.message } });
  }
});
`;

interface Writer {
  worker: Worker;
  online: boolean;
  /** the batches sent and not yet answered */
  pending: Map<number, { bytes: number; slab: SharedArrayBuffer }>;
  pendingBytes: number;
  /** shared buffers free for the next batch (allocated once, reused: no allocation per batch) */
  freeSlabs: SharedArrayBuffer[];
  slabs: number;
  waiters: Array<() => void>;
}

interface Batch { writer: Writer; slab: SharedArrayBuffer; view: Uint8Array; used: number; steps: Step[] }

/** A few worker threads writing a layer's regular files; one per applyLayer call. */
export class LayerFileWriters {
  private readonly writers: Writer[] = [];
  private batch: Batch | undefined;
  private seq = 0;
  private nextId = 0;
  private failure: Error | undefined;
  /** the file being streamed across batches: it must stay with one writer */
  private openFile: Step | undefined;

  constructor(threads: number) {
    for (let i = 0; i < threads; i++) this.writers.push(this.spawn());
  }

  /** True once a worker can take files (before that the caller writes them itself). */
  get online(): boolean {
    return this.writers.some((w) => w.online);
  }

  /** Resolves when the first worker is up (tests use it to force the worker path). */
  async whenOnline(): Promise<void> {
    await Promise.race(this.writers.map((w) => new Promise<void>((resolve) => {
      if (w.online) resolve();
      else w.worker.once('online', () => { resolve(); });
    })));
  }

  /** Write one new file with the content streamed from `body` (exactly `size` bytes). */
  async writeFile(file: FileWrite, size: number, body: AsyncIterable<Buffer>): Promise<void> {
    this.throwIfFailed();
    const step: Step = { ...file, id: this.nextId++, first: true, last: false, start: 0, end: 0 };
    let written = 0;
    // a small file goes whole into one batch; a big one is streamed through several
    if (this.batch !== undefined && size <= BATCH_BYTES && BATCH_BYTES - this.batch.used < size) this.send();
    this.openFile = step;
    try {
      for await (const chunk of body) {
        for (let off = 0; off < chunk.length;) {
          const batch = await this.room();
          const take = Math.min(chunk.length - off, BATCH_BYTES - batch.used);
          batch.view.set(take === chunk.length ? chunk : chunk.subarray(off, off + take), batch.used);
          written += take;
          this.addStep(batch, step, batch.used, batch.used + take, written === size);
          batch.used += take;
          off += take;
        }
      }
    } finally {
      // an empty file, or a body cut short (the tar reader throws): the writer still closes its fd
      if (written < size || size === 0) this.addStep(await this.room(true), step, 0, 0, true);
      this.openFile = undefined;
    }
  }

  /** Wait until every file handed over so far is on disk (closed); throws the first failure. */
  async flush(): Promise<void> {
    this.send();
    await Promise.all(this.writers.map(async (w) => { while (w.pending.size > 0) await this.nextReply(w); }));
    this.throwIfFailed();
  }

  /** Wait for the writes in flight (errors are kept for flush) and stop the threads. */
  async close(): Promise<void> {
    this.batch = undefined;
    await Promise.all(this.writers.map(async (w) => { while (w.pending.size > 0) await this.nextReply(w); }));
    await Promise.all(this.writers.map((w) => w.worker.terminate()));
  }

  private spawn(): Writer {
    const worker = new Worker(WORKER, { eval: true });
    const writer: Writer = { worker, online: false, pending: new Map(), pendingBytes: 0, freeSlabs: [], slabs: 0, waiters: [] };
    worker.unref();
    worker.on('online', () => { writer.online = true; });
    worker.on('message', (reply: Reply) => { this.answered(writer, reply); });
    const lost = (err: Error): void => {
      this.failure ??= internal('LAYER_WRITER_FAILED', `layer file writer thread stopped: ${err.message}`, { cause: err });
      for (const seq of [...writer.pending.keys()]) this.answered(writer, { seq });
    };
    worker.on('error', lost);
    worker.on('exit', (code) => { if (writer.pending.size > 0) lost(new Error(`exit code ${code}`)); });
    return writer;
  }

  private answered(writer: Writer, reply: Reply): void {
    const sent = writer.pending.get(reply.seq);
    if (sent === undefined) return;
    writer.pending.delete(reply.seq);
    writer.pendingBytes -= sent.bytes;
    writer.freeSlabs.push(sent.slab);
    if (reply.error !== undefined && this.failure === undefined) this.failure = writeError(reply.error);
    for (const wake of writer.waiters.splice(0)) wake();
  }

  private async nextReply(writer: Writer): Promise<void> {
    await new Promise<void>((resolve) => writer.waiters.push(resolve));
  }

  /** The open batch, or a new one when it is full (`step`: room for a step without bytes is enough). */
  private async room(step = false): Promise<Batch> {
    const open = this.batch;
    if (open !== undefined && open.steps.length < BATCH_FILES && (step || open.used < BATCH_BYTES)) return open;
    this.send();
    // a file streamed across batches stays with its writer; others go to the least busy one
    const writer = this.openFile?.first === false && open !== undefined ? open.writer : this.leastBusy();
    while (writer.freeSlabs.length === 0 && writer.slabs >= MAX_SLABS) {
      await this.nextReply(writer);
      this.throwIfFailed();
    }
    let slab = writer.freeSlabs.pop();
    if (slab === undefined) {
      slab = new SharedArrayBuffer(BATCH_BYTES);
      writer.slabs++;
    }
    const batch: Batch = { writer, slab, view: new Uint8Array(slab), used: 0, steps: [] };
    this.batch = batch;
    return batch;
  }

  private addStep(batch: Batch, step: Step, start: number, end: number, last: boolean): void {
    batch.steps.push({ ...step, start, end, last });
    step.first = false;
  }

  private leastBusy(): Writer {
    let best: Writer | undefined;
    for (const w of this.writers) if (w.online && (best === undefined || w.pendingBytes < best.pendingBytes)) best = w;
    return best ?? (this.writers[0] as Writer);
  }

  private send(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined || batch.steps.length === 0) return;
    const seq = this.seq++;
    batch.writer.pending.set(seq, { bytes: batch.used, slab: batch.slab });
    batch.writer.pendingBytes += batch.used;
    batch.writer.worker.postMessage({ seq, slab: batch.slab, steps: batch.steps });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

function writeError(error: NonNullable<Reply['error']>): Error {
  if (error.code === 'EEXIST') {
    return invalidArgument('UNSAFE_LAYER_ENTRY', `layer entry "${error.entry}": a file of that name exists already`);
  }
  return internal('LAYER_WRITE_FAILED', `layer entry "${error.entry}": ${error.message}`, { detail: { code: error.code } });
}
