// The state directory of the built-in runtime: <root>/<id>/ holds state.json (what the
// runtime needs after create), exec.fifo while created-not-started, and exit.json written
// by the shim when init exits. Status is derived from these and /proc, never cached.
// The file calls are synchronous on purpose: a few small files, normally on tmpfs
// (/run/berth), written without fsync (as runc does), and /proc: each call is microseconds
// of page cache work, where a thread pool round trip costs more than the call (the state
// phases of bench/runtime were ~8 ms of a 30 ms run, nearly all of it round trips).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { conflict, errnoCode, invalidArgument, notFound } from '../errors/berth-error.js';
import { hooksSchema, namespaceTypes, type ContainerStatus, type State } from '../oci/runtime-spec.js';
import { removeTree } from '../util/remove-tree.js';

export const DEFAULT_RUNTIME_ROOT = '/run/berth/runtime';

const recordSchema = z.object({
  id: z.string(),
  ociVersion: z.string(),
  bundle: z.string(),
  rootfs: z.string(),
  pid: z.number().int(),
  /** field 22 of /proc/<pid>/stat: tells a recycled pid from ours */
  pidStartTime: z.string(),
  created: z.string(),
  annotations: z.record(z.string()).optional(),
  cgroupsPath: z.string(),
  /** the spec named no cgroupsPath: the runtime put it under its own parent, removed when empty at delete */
  cgroupsPathDefaulted: z.boolean().optional(),
  namespaces: z.array(z.enum(namespaceTypes)),
  hooks: hooksSchema.optional(),
});
export type ContainerRecord = z.infer<typeof recordSchema>;

const exitSchema = z.object({ exitCode: z.number().int(), signal: z.number().int() });
export type RecordedExit = z.infer<typeof exitSchema>;

export function validateContainerId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,1023}$/.test(id)) {
    throw invalidArgument('INVALID_CONTAINER_ID', `invalid container id ${JSON.stringify(id)}: use letters, digits, '_', '.', '-'`);
  }
}

export async function processStartTime(pid: number): Promise<string | undefined> {
  return processStartTimeNow(pid);
}

/** processStartTime, read synchronously (procfs answers from memory) */
export function processStartTimeNow(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export class StateStore {
  /**
   * The records this store wrote, so a load does not read, parse and validate them again;
   * a load still checks that the file is there (another process may have deleted it)
   */
  private readonly written = new Map<string, ContainerRecord>();

  constructor(readonly root: string) {}

  dir(id: string): string {
    validateContainerId(id);
    return path.join(this.root, id);
  }

  fifoPath(id: string): string { return path.join(this.dir(id), 'exec.fifo'); }
  exitPath(id: string): string { return path.join(this.dir(id), 'exit.json'); }

  /** Claim the directory for a new container; conflict when the id is taken. */
  async claim(id: string): Promise<string> {
    const dir = this.dir(id);
    this.written.delete(id);
    // the root exists but for the first container (or after its removal): made only then
    if (!this.makeDirectory(dir)) {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
      this.makeDirectory(dir, true);
    }
    return dir;
  }

  /** false when the root is missing (unless `rootMade`); conflict when the id is taken */
  private makeDirectory(dir: string, rootMade = false): boolean {
    try {
      mkdirSync(dir, { mode: 0o711 });
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw conflict('CONTAINER_EXISTS', `container ${path.basename(dir)} already exists`);
      if (errnoCode(err) === 'ENOENT' && !rootMade) return false;
      throw err;
    }
  }

  async save(record: ContainerRecord): Promise<void> {
    // runtime state describes live processes: a reboot ends both, so rename suffices (as runc)
    const file = path.join(this.dir(record.id), 'state.json');
    const temp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
      renameSync(temp, file);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
    this.written.set(record.id, record);
  }

  async load(id: string): Promise<ContainerRecord> {
    const known = this.written.get(id);
    if (known !== undefined) {
      if (existsSync(path.join(this.dir(id), 'state.json'))) return known;
      this.written.delete(id);
    }
    let text: string;
    try {
      text = readFileSync(path.join(this.dir(id), 'state.json'), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('NO_SUCH_CONTAINER', `container ${id} does not exist`);
      throw err;
    }
    const parsed = recordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw invalidArgument('CORRUPT_STATE', `state of container ${id} is unreadable: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  async exit(id: string): Promise<RecordedExit | undefined> {
    return this.exitNow(id);
  }

  private exitNow(id: string): RecordedExit | undefined {
    // the common answer (no exit yet) without a thrown ENOENT: the error and its stack
    // cost more than the read
    if (!existsSync(this.exitPath(id))) return undefined;
    try {
      const parsed = exitSchema.safeParse(JSON.parse(readFileSync(this.exitPath(id), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** created (fifo still there), running, or stopped; paused is decided by the caller's cgroup */
  async status(record: ContainerRecord): Promise<ContainerStatus> {
    if (this.exitNow(record.id)) return 'stopped';
    if (processStartTimeNow(record.pid) !== record.pidStartTime) return 'stopped';
    return existsSync(this.fifoPath(record.id)) ? 'created' : 'running';
  }

  toState(record: ContainerRecord, status: ContainerStatus): State {
    const state: State = { ociVersion: record.ociVersion, id: record.id, status, pid: status === 'stopped' ? 0 : record.pid, bundle: record.bundle };
    if (record.annotations) state.annotations = record.annotations;
    return state;
  }

  async ids(): Promise<string[]> {
    try {
      return readdirSync(this.root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * On the thread pool (removeTree), unlike the rest: the rmdir of the directory waits for the journal
   * where the root is not on tmpfs (/run is ext4 on some hosts: ~3 ms per delete measured
   * under load, the event loop held meanwhile), and nothing waits for a delete's end but
   * its own caller.
   */
  async remove(id: string): Promise<void> {
    this.written.delete(id);
    await removeTree(this.dir(id));
  }
}
