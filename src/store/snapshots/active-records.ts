// The record of a writable snapshot, <active>/<key>/active.json, as both snapshotters keep it:
// read and validated in one place (foreign-ish data: a crash or a hand edit may have left it bad).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errnoCode, invalidArgument, notFound } from '../../errors/berth-error.js';
import { isDigest } from '../../oci/digest.js';
import { checkSnapshotKey, type ActiveSnapshot } from './snapshotter.js';

export const ACTIVE_RECORD = 'active.json';

const idRangesSchema = z.array(z.object({ containerID: z.number().int().nonnegative(), hostID: z.number().int().nonnegative(), size: z.number().int().positive() }));
const idMapsSchema = z.object({ uidMappings: idRangesSchema, gidMappings: idRangesSchema }).optional();

/** Validate a parsed active.json for `key`; `root` is where that snapshotter mounts or copies it. */
export function parseActiveRecord(raw: unknown, key: string, root: string): ActiveSnapshot {
  if (typeof raw !== 'object' || raw === null || !('key' in raw) || raw.key !== key) {
    throw invalidArgument('CORRUPT_SNAPSHOT_METADATA', `snapshot ${key}: bad ${ACTIVE_RECORD}`);
  }
  const parent = 'parent' in raw ? raw.parent : undefined;
  if (parent !== undefined && !isDigest(parent)) throw invalidArgument('CORRUPT_SNAPSHOT_METADATA', `snapshot ${key}: bad parent`);
  const createdAt = 'createdAt' in raw && typeof raw.createdAt === 'number' ? raw.createdAt : 0;
  const idmap = idMapsSchema.safeParse('idmap' in raw ? raw.idmap : undefined);
  if (!idmap.success) throw invalidArgument('CORRUPT_SNAPSHOT_METADATA', `snapshot ${key}: bad idmap`);
  return { key, root, createdAt, ...(parent !== undefined ? { parent } : {}), ...(idmap.data ? { idmap: idmap.data } : {}) };
}

/**
 * The record of `key` under `activeRoot`; `rootName` is the sub-directory holding its root
 * file system ("merged" for overlay, "fs" for the copier). not_found when there is none.
 */
export async function readActiveRecord(activeRoot: string, key: string, rootName: string): Promise<ActiveSnapshot> {
  const dir = path.join(activeRoot, checkSnapshotKey(key));
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(dir, ACTIVE_RECORD), 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound('SNAPSHOT_NOT_FOUND', `snapshot ${key} not found`);
    if (err instanceof SyntaxError) throw invalidArgument('CORRUPT_SNAPSHOT_METADATA', `snapshot ${key}: ${ACTIVE_RECORD} is not JSON`);
    throw err;
  }
  return parseActiveRecord(raw, key, path.join(dir, rootName));
}

/** Every readable record under `activeRoot` (a half-made or unreadable one is skipped). */
export async function listActiveRecords(activeRoot: string, rootName: string): Promise<ActiveSnapshot[]> {
  const names = await readdir(activeRoot).catch(() => [] as string[]);
  const out: ActiveSnapshot[] = [];
  for (const name of names) {
    const snapshot = await readActiveRecord(activeRoot, name, rootName).catch(() => undefined);
    if (snapshot !== undefined) out.push(snapshot);
  }
  return out;
}
