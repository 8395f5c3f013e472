// Tells the container service when the kernel's OOM killer acts in a container's memory
// cgroup, at that moment (dockerd's `oom` event), not when the container exits:
//  - v2: memory.events changes (inotify through fs.watch); an `oom_kill` count above the
//    last one seen is an OOM kill;
//  - v1: an eventfd registered on memory.oom_control through cgroup.event_control, which
//    the kernel signals when the group is out of memory (and when the group goes away:
//    then memory.oom_control can no longer be read, and nothing is reported).
import { closeSync, openSync, readFileSync, readSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openWatchedEventfd, type WatchedEventfd } from '../../sys/eventfd.js';

/** Where a container's memory cgroup is (CgroupAccess.oomSource). */
export interface OomSource {
  version: 1 | 2;
  /** the memory controller's directory of the container's cgroup (v2: its unified directory) */
  memoryDir: string;
}

export interface OomWatch {
  /** the group's oom_kill counter now, through what the watch holds open (the exit path asks) */
  killCount(): Promise<number>;
  /** stop watching (idempotent) */
  close(): Promise<void>;
}

/** The `oom_kill` counter of a memory.events or memory.oom_control text (0 when absent). */
export function oomKillCount(text: string): number {
  const match = /^oom_kill\s+(\d+)$/m.exec(text);
  return match ? Number(match[1]) : 0;
}

export async function watchOom(source: OomSource, onOom: () => void): Promise<OomWatch> {
  return source.version === 2 ? await watchV2(source.memoryDir, onOom) : await watchV1(source.memoryDir, onOom);
}

/** watchOom where `source` finds a memory cgroup; undefined (and `skipped` told why) where not. */
export async function watchOomIfPossible(source: () => Promise<OomSource | undefined>, onOom: () => void,
  skipped: (reason: string) => void): Promise<OomWatch | undefined> {
  try {
    const found = await source();
    if (found === undefined) return undefined;
    return await watchOom(found, onOom);
  } catch (err) {
    skipped(err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

async function watchV2(dir: string, onOom: () => void): Promise<OomWatch> {
  const file = path.join(dir, 'memory.events');
  let seen = oomKillCount(await readFile(file, 'utf8'));
  let closed = false;
  let checking = false;
  let again = false;
  // changes coalesce: one read at a time, one more if something changed meanwhile
  const check = async (): Promise<void> => {
    if (checking) { again = true; return; }
    checking = true;
    do {
      again = false;
      const count = await readFile(file, 'utf8').then(oomKillCount, () => seen);
      if (count > seen) {
        seen = count;
        if (!closed) onOom();
      }
    } while (again && !closed);
    checking = false;
  };
  const watcher: FSWatcher = watch(file, { persistent: false }, () => { void check(); });
  watcher.on('error', () => watcher.close());
  // a kill between the first read and the watch being in place
  await check();
  // synchronous: a cgroupfs file is made in memory by the kernel in microseconds, less than a
  // thread-pool round trip (and this read is on the path of every exit)
  return { killCount: async () => oomKillCount(readFileSync(file, 'utf8')), close: async () => { closed = true; watcher.close(); } };
}

async function watchV1(dir: string, onOom: () => void): Promise<OomWatch> {
  // synchronous throughout: cgroupfs files are made in memory by the kernel in microseconds,
  // less than a thread-pool round trip (this runs beside every start, the read at every exit)
  const control = path.join(dir, 'memory.oom_control');
  const controlFd = openSync(control, 'r');
  let eventfd: WatchedEventfd;
  try {
    eventfd = openWatchedEventfd();
  } catch (err) {
    closeSync(controlFd);
    throw err;
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    eventfd.close();
    try { closeSync(controlFd); } catch { /* closed already */ }
  };
  try {
    writeFileSync(path.join(dir, 'cgroup.event_control'), `${eventfd.fd} ${controlFd}`);
  } catch (err) {
    await close();
    throw err;
  }
  eventfd.stream.on('data', () => {
    // a signal from a group being removed: its control file is gone
    void readFile(control, 'utf8').then(() => { if (!closed) onOom(); }, () => undefined);
  });
  eventfd.stream.on('error', () => { void close(); });
  // the control file is open already: one read at offset 0 (a seq_file rereads from the start)
  const killCount = async (): Promise<number> => {
    // after close the number may be another file's: the caller reads the cgroup instead
    if (closed) throw new Error(`the OOM watch of ${dir} is closed`);
    const buffer = Buffer.alloc(512);
    const bytesRead = readSync(controlFd, buffer, 0, buffer.length, 0);
    return oomKillCount(buffer.toString('utf8', 0, bytesRead));
  };
  return { killCount, close };
}
