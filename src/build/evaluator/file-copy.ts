// Copy files from a source tree (the context, another stage, a download) into a container
// root. Destinations are resolved inside the root; sources never leave their root.
import { lstat, lchown, mkdir, readdir, readFile, readlink, symlink, copyFile, chown, chmod, lutimes, rm, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../../errors/berth-error.js';
import { resolveInRoot } from '../context/root-path.js';
import type { Owner } from './ownership.js';

export interface CopyOptions {
  owner: Owner;
  /** --chmod: applied to every file and directory copied */
  mode: number | undefined;
  /** context-relative paths to skip (.dockerignore, --exclude) */
  skip: ((relative: string) => boolean) | undefined;
  /** keep the source's mtime (COPY/ADD do) */
  keepTimes: boolean;
}

/** Create missing directories of `inside` in the root, owned like docker does (root unless --chown). */
export async function mkdirInRoot(root: string, inside: string, owner: Owner): Promise<string> {
  const parts = inside.split('/').filter((p) => p !== '' && p !== '.');
  let current = '/';
  for (const part of parts) {
    current = path.posix.join(current, part);
    const host = await resolveInRoot(root, current);
    try {
      const info = await lstat(host);
      if (!info.isDirectory()) throw new Error(`${current} exists and is not a directory`);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      await mkdir(host, { mode: 0o755 });
      await changeOwner(host, owner, false);
    }
  }
  return resolveInRoot(root, inside);
}

/** Unprivileged runs (unit tests) cannot give files away; as root a failure is real. */
async function changeOwner(target: string, owner: Owner, link: boolean): Promise<void> {
  try {
    await (link ? lchown : chown)(target, owner.uid, owner.gid);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM' || process.getuid?.() === 0) throw err;
  }
}

async function applyMeta(target: string, info: Stats, options: CopyOptions, isLink: boolean): Promise<void> {
  if (isLink) {
    await changeOwner(target, options.owner, true);
    if (options.keepTimes) await lutimes(target, info.atime, info.mtime);
    return;
  }
  await changeOwner(target, options.owner, false);
  await chmod(target, options.mode ?? (info.mode & 0o7777));
  if (options.keepTimes) await utimes(target, info.atime, info.mtime);
}

/** Replace whatever is at `target` unless both are directories (docker merges directories). */
async function clearFor(target: string, sourceIsDir: boolean): Promise<void> {
  try {
    const existing = await lstat(target);
    if (existing.isDirectory() && sourceIsDir) return;
    await rm(target, { recursive: true, force: true });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/**
 * Copy `source` (file, symlink or directory) to the host path `target` inside a root. For a
 * directory the contents go into `target`. `relative` is the source's context-relative path.
 */
export async function copyEntry(source: string, target: string, relative: string, options: CopyOptions): Promise<void> {
  const info = await lstat(source);
  if (info.isDirectory()) {
    await clearFor(target, true);
    await mkdir(target, { recursive: true });
    const children = (await readdir(source)).sort()
      .map((name) => ({ name, rel: relative === '' ? name : `${relative}/${name}` }))
      .filter((c) => !options.skip?.(c.rel));
    await forEachLimited(children, 8, (c) => copyEntry(path.join(source, c.name), path.join(target, c.name), c.rel, options));
    await applyMeta(target, info, options, false);
    return;
  }
  await clearFor(target, false);
  if (info.isSymbolicLink()) {
    await symlink(await readlink(source), target);
    await applyMeta(target, info, options, true);
  } else if (info.isFile()) {
    await copyFile(source, target);
    await applyMeta(target, info, options, false);
  }
  // sockets, fifos and devices in a context are skipped, as docker's tar sender does
}

/** Files up to this size are read whole (much faster than a stream for many small files). */
const READ_WHOLE_LIMIT = 16 * 1024 * 1024;

async function hashFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size <= READ_WHOLE_LIMIT) return hash.update(await readFile(file)).digest('hex');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Run `work` over items with a few in flight (the fs thread pool does the rest). */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Digests already computed for files of a root (the context tarball's), looked up by path. */
export interface KnownDigests {
  lookup(host: string, relative: string, info: Stats): string | undefined;
}

/**
 * Content checksum of a source (file or tree) for the cache and the history text: path,
 * type, mode, size, link target and content of every entry, but not times (as docker).
 * Also reports each file's checksum so a cache miss can name the file that changed.
 */
export async function checksumTree(source: string, relative: string, skip: ((rel: string) => boolean) | undefined,
  files: Map<string, string>, known?: KnownDigests): Promise<string> {
  const entries: Array<{ host: string; rel: string; info: Stats; line: string }> = [];
  const walk = async (host: string, rel: string): Promise<void> => {
    const info = await lstat(host);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isDirectory()) {
      // the context root's own mode is an accident of extraction: left out
      entries.push({ host, rel, info, line: rel === '' ? 'd\n' : `d ${rel} ${mode}\n` });
      for (const name of (await readdir(host)).sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (skip?.(childRel)) continue;
        await walk(path.join(host, name), childRel);
      }
    } else if (info.isSymbolicLink()) {
      const target = await readlink(host);
      entries.push({ host, rel, info, line: `l ${rel} ${target}\n` });
      files.set(rel, `link:${target}`);
    } else if (info.isFile()) {
      entries.push({ host, rel, info, line: '' });
    }
  };
  await walk(source, relative);
  // content hashes in parallel, combined in the walk's (sorted) order
  await forEachLimited(entries.filter((e) => e.line === ''), 8, async (e) => {
    const mode = (e.info.mode & 0o7777).toString(8);
    const content = known?.lookup(e.host, e.rel, e.info) ?? await hashFile(e.host, e.info.size);
    e.line = `f ${e.rel} ${mode} ${e.info.size} ${content}\n`;
    files.set(e.rel, `${mode}:${content}`);
  });
  const hash = createHash('sha256');
  for (const e of entries) hash.update(e.line);
  return hash.digest('hex');
}

