// Copy files from a source tree (the context, another stage, a download) into a container
// root. Destinations are resolved inside the root; sources never leave their root.
import { lstat, lchown, mkdir, readdir, readlink, symlink, copyFile, chown, chmod, lutimes, rm, utimes } from 'node:fs/promises';
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
    for (const name of (await readdir(source)).sort()) {
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      if (options.skip?.(childRelative)) continue;
      await copyEntry(path.join(source, name), path.join(target, name), childRelative, options);
    }
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

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Content checksum of a source (file or tree) for the cache and the history text: path,
 * type, mode, size, link target and content of every entry, but not times (as docker).
 * Also reports each file's checksum so a cache miss can name the file that changed.
 */
export async function checksumTree(source: string, relative: string, skip: ((rel: string) => boolean) | undefined,
  files: Map<string, string>): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (host: string, rel: string): Promise<void> => {
    const info = await lstat(host);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isDirectory()) {
      hash.update(`d ${rel} ${mode}\n`);
      for (const name of (await readdir(host)).sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (skip?.(childRel)) continue;
        await visit(path.join(host, name), childRel);
      }
    } else if (info.isSymbolicLink()) {
      const target = await readlink(host);
      hash.update(`l ${rel} ${target}\n`);
      files.set(rel, `link:${target}`);
    } else if (info.isFile()) {
      const content = await hashFile(host);
      hash.update(`f ${rel} ${mode} ${info.size} ${content}\n`);
      files.set(rel, `${mode}:${content}`);
    }
  };
  await visit(source, relative);
  return hash.digest('hex');
}

