// The set of containers: an in-memory index (ids, names) over the persisted records. All
// lookups by name, full id or unique id prefix go through resolve().
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ZodError } from 'zod';
import { BerthError, conflict, errnoCode, invalidArgument, notFound } from '../../errors/berth-error.js';
import { writeJsonAtomic, type AtomicWriteOptions } from '../../util/atomic-file.js';
import { setAside } from '../../util/set-aside.js';
import { removeTree } from '../../util/remove-tree.js';
import { recordSchema, type ContainerRecord } from './record.js';

/** directories of removed containers still being deleted: <root>/.removed-<id>-<random> */
const REMOVED_PREFIX = '.removed-';

export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface StoreWarning {
  id: string;
  message: string;
}

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  /** per container, the last of its queued disk writes (saves and the removal run one at a time, in order) */
  private readonly writes = new Map<string, Promise<void>>();
  /** ids whose record was found corrupt and moved aside, at this load or an earlier one (their snapshots are kept) */
  readonly setAsideIds: string[] = [];

  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /**
   * Load every record. An unreadable one (truncated, garbage, fails the schema) is moved
   * aside to <id>.corrupt-<time> and reported; every other container still loads.
   */
  async load(): Promise<StoreWarning[]> {
    await mkdir(this.root, { recursive: true, mode: 0o710 });
    const warnings: StoreWarning[] = [];
    for (const entry of await readdir(this.root)) {
      if (entry.startsWith(REMOVED_PREFIX)) {
        // a removed container's directory whose deletion a crash cut short
        await rm(path.join(this.root, entry), { recursive: true, force: true });
        continue;
      }
      const asideEarlier = /^([0-9a-f]{64})\.corrupt-/.exec(entry)?.[1];
      if (asideEarlier !== undefined) this.setAsideIds.push(asideEarlier);
      if (!/^[0-9a-f]{64}$/.test(entry)) continue;
      try {
        const raw: unknown = JSON.parse(await readFile(path.join(this.root, entry, 'config.v2.json'), 'utf8'));
        const record = recordSchema.parse(raw);
        this.byId.set(record.Id, record);
        this.byName.set(record.Name, record.Id);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') {
          // created but never persisted: a crash in the middle of create
          await rm(path.join(this.root, entry), { recursive: true, force: true });
          continue;
        }
        const reason = err instanceof ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ')
          : err instanceof Error ? err.message : String(err);
        const moved = await setAside(path.join(this.root, entry)).catch(() => undefined);
        this.setAsideIds.push(entry);
        warnings.push({ id: entry, message: `corrupt record config.v2.json (${reason})${moved ? `: set aside as ${moved}` : ''}` });
      }
    }
    return warnings;
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  /** by exact name ("web" or "/web"), full id, or unique id prefix */
  resolve(idOrName: string): ContainerRecord {
    if (idOrName === '') throw invalidArgument('EMPTY_CONTAINER_ID', 'no container name or id given');
    const exact = this.byId.get(idOrName);
    if (exact) return exact;
    const named = this.byName.get(idOrName.startsWith('/') ? idOrName : `/${idOrName}`);
    if (named) return this.byId.get(named) as ContainerRecord;
    if (/^[0-9a-f]+$/.test(idOrName)) {
      const matches = [...this.byId.keys()].filter((id) => id.startsWith(idOrName));
      if (matches.length > 1) {
        throw new BerthError('invalid_argument', 'AMBIGUOUS_CONTAINER_ID',
          `multiple containers found with provided prefix: ${idOrName}`);
      }
      const only = matches[0];
      if (only) return this.byId.get(only) as ContainerRecord;
    }
    throw notFound('NO_SUCH_CONTAINER', `No such container: ${idOrName}`);
  }

  /** Claim a name for an id; a name in use by another container is a conflict. */
  reserveName(name: string, id: string): void {
    if (!NAME_RE.test(name)) {
      throw invalidArgument('INVALID_CONTAINER_NAME',
        `Invalid container name (${name.replace(/^\//, '')}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const full = name.startsWith('/') ? name : `/${name}`;
    const holder = this.byName.get(full);
    if (holder !== undefined && holder !== id) {
      throw conflict('NAME_IN_USE', `Conflict. The container name "${full}" is already in use by container "${holder}". `
        + 'You have to remove (or rename) that container to be able to reuse that name.');
    }
    this.byName.set(full, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  hasName(name: string): boolean {
    return this.byName.has(name.startsWith('/') ? name : `/${name}`);
  }

  /**
   * `durable: false` for run-state changes (running, exited): a power loss ends the run
   * anyway, and the last durable record is a state berthd starts from (it marks dead
   * containers exited); the rename still keeps a kill -9 from leaving half a file.
   */
  async save(record: ContainerRecord, options: AtomicWriteOptions = {}): Promise<void> {
    await this.writeRecord(record, options, false);
  }

  /** A new container: its directory (0710) and record, queued as every later write is. */
  async add(record: ContainerRecord, options: AtomicWriteOptions = {}): Promise<void> {
    await this.writeRecord(record, options, true);
  }

  /** Index the record at once and queue its write (after the container's earlier ones). */
  private async writeRecord(record: ContainerRecord, options: AtomicWriteOptions, makeDirectory: boolean): Promise<void> {
    this.byId.set(record.Id, record);
    this.byName.set(record.Name, record.Id);
    await this.queue(record.Id, async () => {
      // removed while this write waited for its turn: writing now would bring the record back
      if (this.byId.get(record.Id) === undefined) return;
      if (makeDirectory) await mkdir(this.dir(record.Id), { recursive: true, mode: 0o710 });
      await writeJsonAtomic(path.join(this.dir(record.Id), 'config.v2.json'), record, 0o600, options);
    });
  }

  /**
   * Run a disk change of one container after its earlier ones: a save the caller did not wait
   * for (the running state, written after start answers) lands before a later save or the
   * removal, never after it.
   */
  private async queue(id: string, work: () => Promise<void>): Promise<void> {
    const done = (this.writes.get(id) ?? Promise.resolve()).then(work);
    const settled = done.catch(() => undefined);
    this.writes.set(id, settled);
    void settled.then(() => { if (this.writes.get(id) === settled) this.writes.delete(id); });
    await done;
  }

  /** Resolves once every write queued for the container so far has ended. */
  async written(id: string): Promise<void> {
    await this.writes.get(id);
  }

  /** Keep a record in memory only (one that is removed next: nothing to persist). */
  remember(record: ContainerRecord): void {
    this.byId.set(record.Id, record);
  }

  /**
   * Forget a container and delete its directory. With `purgeLater` the directory is renamed
   * out of the way (one step: the record is gone from the disk as from the index) and its
   * deletion handed to the caller instead of awaited; a crash before it ends is swept by load().
   */
  async remove(record: ContainerRecord, options: { purgeLater?: (purge: Promise<void>) => void } = {}): Promise<void> {
    this.byId.delete(record.Id);
    this.releaseName(record.Name, record.Id);
    await this.queue(record.Id, async () => {
      if (!options.purgeLater) {
        await removeTree(this.dir(record.Id));
        return;
      }
      const doomed = path.join(this.root, `${REMOVED_PREFIX}${record.Id}-${randomBytes(4).toString('hex')}`);
      try {
        await rename(this.dir(record.Id), doomed);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        throw err;
      }
      options.purgeLater(removeTree(doomed));
    });
  }
}
