// Image metadata: image records by ID (the config digest), names (full references such
// as docker.io/library/busybox:latest) pointing at IDs, and leases that protect content
// being written from GC. Each record is its own file written atomically; the name table
// is one small file rewritten atomically under an in-process lock.
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errnoCode, notFound } from '../../errors/berth-error.js';
import { digestHex, isDigest, type Digest } from '../../oci/digest.js';
import { descriptorSchema, validate } from '../../oci/image.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { BoundedMap } from '../../util/bounded-map.js';

const digest = z.string().refine(isDigest, { message: 'not a digest' }).transform((s) => s as Digest);

export const imageRecordSchema = z.object({
  id: digest,
  /** the platform-specific manifest in the content store (every image has one) */
  manifest: descriptorSchema,
  /** the index it was selected from, when pulled or loaded through one */
  index: descriptorSchema.optional(),
  /** name@digest references the image is known by in registries */
  repoDigests: z.array(z.string()),
  /** the image this one was built or committed on */
  parent: digest.optional(),
  /** ms since epoch when berth got the image; lastTagTime when last tagged */
  createdAt: z.number(),
  lastTagTime: z.number().optional(),
});
export type ImageRecord = z.infer<typeof imageRecordSchema>;

/** records kept in memory at most (each a few hundred bytes); the oldest goes first */
const MAX_CACHED_RECORDS = 4096;

const namesSchema = z.record(z.string(), digest);

export interface Lease {
  id: string;
  blobs: Digest[];
  layers: Digest[];
  expiresAt: number;
}
const leaseSchema = z.object({ id: z.string(), blobs: z.array(digest), layers: z.array(digest), expiresAt: z.number() });

/** A small async mutex: one writer of the name table at a time. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => { release = resolve; });
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }
}

export class ImageMetadataStore {
  private readonly lock = new Mutex();
  private names: Record<string, Digest> | undefined;
  /** image records as last read or written here, by id */
  private readonly records = new BoundedMap<Digest, ImageRecord>(MAX_CACHED_RECORDS);
  /** counts puts and deletes: a read that saw one happen meanwhile is not kept */
  private generation = 0;

  constructor(readonly root: string) {}

  private imageFile(id: Digest): string {
    return path.join(this.root, 'images', `${digestHex(id)}.json`);
  }

  async getImage(id: Digest): Promise<ImageRecord> {
    // every container create reads its image's record: this store is the records' only writer,
    // so what it read or wrote is kept (a copy is handed out: callers may change theirs)
    const known = this.records.get(id);
    if (known !== undefined) return structuredClone(known);
    // a put or delete while this read is on its way makes what it read too old to keep
    const generation = this.generation;
    let raw: string;
    try {
      raw = await readFile(this.imageFile(id), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('NO_SUCH_IMAGE', `no such image: ${id}`);
      throw err;
    }
    const record = validate(imageRecordSchema, JSON.parse(raw), `image record ${id}`);
    if (generation === this.generation) this.remember(record);
    return structuredClone(record);
  }

  private remember(record: ImageRecord): void {
    this.records.set(record.id, record);
  }

  async hasImage(id: Digest): Promise<boolean> {
    return await this.getImage(id).then(() => true, () => false);
  }

  async putImage(record: ImageRecord): Promise<void> {
    // forgotten first: a failed write leaves the disk, not the cache, to say what is there
    this.records.delete(record.id);
    const generation = ++this.generation;
    await writeJsonAtomic(this.imageFile(record.id), record);
    if (generation === this.generation) this.remember(structuredClone(record));
  }

  async deleteImage(id: Digest): Promise<void> {
    this.records.delete(id);
    this.generation++;
    await rm(this.imageFile(id), { force: true });
  }

  async listImages(): Promise<ImageRecord[]> {
    const files = await readdir(path.join(this.root, 'images')).catch(() => [] as string[]);
    const out: ImageRecord[] = [];
    for (const name of files) {
      if (!name.endsWith('.json')) continue;
      const id = `sha256:${name.slice(0, -5)}`;
      if (!isDigest(id)) continue;
      const record = await this.getImage(id).catch(() => undefined);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  private async loadNames(): Promise<Record<string, Digest>> {
    if (this.names !== undefined) return this.names;
    try {
      this.names = validate(namesSchema, JSON.parse(await readFile(path.join(this.root, 'names.json'), 'utf8')), 'image name table');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      this.names = {};
    }
    return this.names;
  }

  /** Name -> image ID map (a copy). */
  async listNames(): Promise<Map<string, Digest>> {
    return new Map(Object.entries(await this.loadNames()));
  }

  async getName(name: string): Promise<Digest | undefined> {
    return (await this.loadNames())[name];
  }

  /** Point names at images (undefined deletes the name), atomically as one write. */
  async updateNames(changes: ReadonlyMap<string, Digest | undefined>): Promise<void> {
    await this.lock.run(async () => {
      const current = await this.loadNames();
      // names already as asked (a rebuild tagging the same image): nothing to write or fsync
      if ([...changes].every(([name, id]) => current[name] === id)) return;
      const next = { ...current };
      for (const [name, id] of changes) {
        if (id === undefined) delete next[name];
        else next[name] = id;
      }
      await writeJsonAtomic(path.join(this.root, 'names.json'), next);
      this.names = next;
    });
  }

  async putLease(lease: Lease): Promise<void> {
    await writeJsonAtomic(path.join(this.root, 'leases', `${encodeURIComponent(lease.id)}.json`), lease);
  }

  async deleteLease(id: string): Promise<void> {
    await rm(path.join(this.root, 'leases', `${encodeURIComponent(id)}.json`), { force: true });
  }

  /** Unexpired leases; expired ones are deleted on the way. */
  async listLeases(now = Date.now()): Promise<Lease[]> {
    const dir = path.join(this.root, 'leases');
    const out: Lease[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const lease = await readFile(path.join(dir, name), 'utf8')
        .then((t) => validate(leaseSchema, JSON.parse(t), `lease ${name}`), () => undefined);
      if (lease === undefined || lease.expiresAt < now) await rm(path.join(dir, name), { force: true });
      else out.push(lease);
    }
    return out;
  }
}

