// A state record found corrupt at startup is moved aside, never deleted: the daemon starts
// without it, `system check` lists it, and a human can still read what was there.
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';

export const CORRUPT_MARK = '.corrupt-';

/** Rename `file` (a file or directory) to `<file>.corrupt-<UTC time>`; returns the new path. */
export async function setAside(file: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const target = `${file}${CORRUPT_MARK}${stamp}`;
  await rename(file, target);
  return target;
}

/** The names in `dir` that setAside made (an absent dir has none). */
export async function setAsideEntries(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.includes(CORRUPT_MARK)).map((n) => path.join(dir, n));
}
