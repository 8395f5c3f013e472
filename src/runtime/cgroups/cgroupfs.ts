// Small helpers over cgroup control files: writes that fail with the file and value named,
// tolerant reads for stats, and walking a cgroup subtree.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, errnoCode } from '../../errors/berth-error.js';

export async function writeControl(dir: string, file: string, value: string | number): Promise<void> {
  try {
    await writeFile(path.join(dir, file), String(value));
  } catch (cause) {
    throw writeFailed(dir, file, value, cause);
  }
}

/**
 * Writes in this order, each control file opened once: a rule list (devices.allow) is one
 * write per rule. Synchronous on purpose: these files are in-kernel lists that never wait
 * for a disk (microseconds each), and a thread pool round trip per rule cost more than the
 * rest of the cgroup's creation together.
 */
export function writeControlSequence(dir: string, writes: ReadonlyArray<readonly [file: string, value: string]>): void {
  const fds = new Map<string, number>();
  try {
    for (const [file, value] of writes) {
      try {
        let fd = fds.get(file);
        if (fd === undefined) {
          fd = openSync(path.join(dir, file), 'w');
          fds.set(file, fd);
        }
        writeSync(fd, value);
      } catch (cause) {
        throw writeFailed(dir, file, value, cause);
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

function writeFailed(dir: string, file: string, value: string | number, cause: unknown): BerthError {
  const target = path.join(dir, file);
  // cgroupfs answers an open that would create a file it lacks with EACCES: say what it means
  const raw = errnoCode(cause) ?? 'error';
  const code = raw === 'EACCES' && existsSync(dir) && !existsSync(target) ? 'ENOENT' : raw;
  return new BerthError('internal', 'CGROUP_WRITE_FAILED', `cannot write '${String(value)}' to ${target}: ${code}`, {
    cause,
    hint: code === 'ENOENT' ? 'the kernel does not offer this setting for this cgroup' : undefined,
    detail: { path: target, value: String(value), errno: code },
  });
}

export async function readControl(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(path.join(dir, file), 'utf8')).trim();
  } catch (err) {
    if (['ENOENT', 'ENODEV', 'EOPNOTSUPP', 'EINVAL'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
}

/**
 * Whether a control file exists. Synchronous, as makeDirectories: cgroupfs never waits for
 * a disk, and a thread pool round trip (a worker woken on a busy machine) cost more than
 * the stat; open() asks this of every container's cgroup it finds.
 */
export function controlExists(dir: string, file: string): boolean {
  try {
    return statSync(path.join(dir, file), { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** Values above 2^62 are the kernel's "no limit" (PAGE_COUNTER_MAX and friends). */
const UNLIMITED = 2n ** 62n;

/** A number, or null for "max"/unlimited/missing. */
export function parseLimit(text: string | undefined): number | null {
  if (text === undefined || text === '' || text === 'max') return null;
  if (!/^\d+$/.test(text)) return null;
  const big = BigInt(text);
  return big >= UNLIMITED ? null : Number(big);
}

export function parseNumber(text: string | undefined): number {
  if (text === undefined || !/^-?\d+$/.test(text)) return 0;
  return Number(text);
}

/** "key value" lines (memory.stat, cpu.stat, cgroup.events) as a record of numbers. */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const result: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && key !== '' && value !== undefined && /^-?\d+$/.test(value)) result[key] = Number(value);
  }
  return result;
}

export function parsePidList(text: string | undefined): number[] {
  return (text ?? '').split('\n').filter((l) => /^\d+$/.test(l.trim())).map((l) => Number(l.trim()));
}

/** Every directory of the subtree at `dir`, deepest first (so they can be rmdir'ed in order). */
export async function subtreeDeepestFirst(dir: string): Promise<string[]> {
  const result: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) result.push(...await subtreeDeepestFirst(path.join(dir, entry.name)));
  }
  result.push(dir);
  return result;
}

/** The pids in cgroup.procs of `dir` and all of its descendants. */
export async function subtreePids(dir: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const sub of await subtreeDeepestFirst(dir)) {
    for (const pid of parsePidList(await readControl(sub, 'cgroup.procs'))) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b);
}

/**
 * mkdir -p that reports which directories it made, so destroy() removes exactly those.
 * Returns them outermost first. The leaf is tried first: its parent nearly always exists,
 * so the common case is a single mkdir. Synchronous on purpose, like writeControlSequence:
 * a cgroupfs mkdir never waits for a disk, and a thread pool round trip per hierarchy cost
 * more than the mkdirs themselves.
 */
export function makeDirectories(dir: string): string[] {
  const first = tryMkdir(dir);
  if (first === 'made') return [dir];
  if (first === 'exists') return [];
  const made: string[] = [];
  // a parent removed under us (a runtime deleting the last container of its default parent)
  // is made again; a parent that keeps vanishing is an error naming it
  for (let attempt = 0; attempt < 3; attempt++) {
    const vanished = makeMissing(dir, made);
    if (vanished === undefined) return made;
    if (attempt === 2) throw createFailed(vanished, Object.assign(new Error('parent vanished'), { code: 'ENOENT' }));
  }
  return made;
}

/** mkdir each missing directory down to `dir`, appending those made; the one whose parent vanished */
function makeMissing(dir: string, made: string[]): string | undefined {
  const missing: string[] = [];
  let current = dir;
  while (!isDirectory(current)) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const target of missing) {
    const result = tryMkdir(target);
    if (result === 'made' && !made.includes(target)) made.push(target);
    if (result === 'no-parent') return target;
  }
  return undefined;
}

/** 'no-parent' when a directory above `dir` is missing; other failures throw naming `dir`. */
function tryMkdir(dir: string): 'made' | 'exists' | 'no-parent' {
  try {
    mkdirSync(dir);
    return 'made';
  } catch (cause) {
    const code = errnoCode(cause);
    if (code === 'ENOENT') return 'no-parent';
    if (code === 'EEXIST' && isDirectory(dir)) return 'exists';
    throw createFailed(dir, cause);
  }
}

function createFailed(target: string, cause: unknown): BerthError {
  return new BerthError('internal', 'CGROUP_CREATE_FAILED', `cannot create cgroup directory ${target}: ${errnoCode(cause) ?? String(cause)}`, { cause });
}

function isDirectory(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** A control file's value now (synchronous, as makeDirectories), undefined when it is missing. */
export function readControlNow(dir: string, file: string): string | undefined {
  try {
    return readFileSync(path.join(dir, file), 'utf8').trim();
  } catch (err) {
    if (['ENOENT', 'ENODEV', 'EOPNOTSUPP', 'EINVAL'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
}

/**
 * Remove each directory with one rmdir, now; true when all are gone. rmdir is the kernel's
 * own emptiness check (EBUSY while a process or a child cgroup is in it), so on false the
 * caller waits for the processes and removes the rest the long way.
 */
export function removeEmptyDirectoriesNow(dirs: readonly string[]): boolean {
  let all = true;
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') all = false;
    }
  }
  return all;
}

/**
 * rmdir with retries: the kernel answers EBUSY for a moment after the last process left.
 * Missing directories count as removed.
 */
export async function removeDirectory(dir: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (cause) {
      const code = errnoCode(cause);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() >= deadline) {
        throw new BerthError('conflict', 'CGROUP_BUSY', `cannot remove cgroup ${dir}: ${code ?? String(cause)}`, {
          cause, hint: 'processes or child cgroups are still in it',
        });
      }
      await sleep(10);
    }
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` until it returns true or the deadline passes; returns the last answer. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export interface DeviceCounters { major: number; minor: number; readBytes: number; writeBytes: number; readOps: number; writeOps: number }

function counterFor(map: Map<string, DeviceCounters>, device: string): DeviceCounters | undefined {
  const match = /^(\d+):(\d+)$/.exec(device);
  if (!match) return undefined;
  let entry = map.get(device);
  if (!entry) {
    entry = { major: Number(match[1]), minor: Number(match[2]), readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
    map.set(device, entry);
  }
  return entry;
}

/** v1 blkio "8:0 Read 4096" lines (bytes file and ops file) per device. */
export function parseBlkioV1(bytesText: string | undefined, opsText: string | undefined): DeviceCounters[] {
  const map = new Map<string, DeviceCounters>();
  for (const [text, kind] of [[bytesText, 'Bytes'], [opsText, 'Ops']] as const) {
    for (const line of (text ?? '').split('\n')) {
      const [device = '', op, value] = line.trim().split(/\s+/);
      if ((op !== 'Read' && op !== 'Write') || value === undefined) continue;
      const entry = counterFor(map, device);
      if (entry) entry[`${op === 'Read' ? 'read' : 'write'}${kind}`] = Number(value);
    }
  }
  return [...map.values()];
}

/** v2 io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." per device. */
export function parseIoStatV2(text: string | undefined): DeviceCounters[] {
  const map = new Map<string, DeviceCounters>();
  for (const line of (text ?? '').split('\n')) {
    const [device = '', ...pairs] = line.trim().split(/\s+/);
    const entry = counterFor(map, device);
    if (!entry) continue;
    const values = Object.fromEntries(pairs.map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
    entry.readBytes = values.rbytes ?? 0;
    entry.writeBytes = values.wbytes ?? 0;
    entry.readOps = values.rios ?? 0;
    entry.writeOps = values.wios ?? 0;
  }
  return [...map.values()];
}
