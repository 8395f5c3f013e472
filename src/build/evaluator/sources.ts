// COPY/ADD sources: wildcards matched inside their root, .dockerignore and --exclude
// applied, heredoc bodies, remote URLs (file name, Last-Modified, size and checksum checked),
// and local archives ADD unpacks.
import { lstat, readdir, writeFile, utimes, open, mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { errnoCode, invalidArgument, notFound, BerthError } from '../../errors/berth-error.js';
import { resolveInRoot } from '../context/root-path.js';

export interface SourceItem {
  /** host path of the file or directory to copy */
  hostPath: string;
  /** path relative to its root (for --parents, messages, ignore checks) */
  relative: string;
  isDir: boolean;
  /** a file ADD downloaded (mode 0600, URL file name) */
  remote?: { url: string; name: string };
}

const WILDCARD = /[*?[]/;

function componentRegExp(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) throw invalidArgument('BUILD_BAD_PATTERN', `syntax error in pattern ${pattern}`);
      out += `[${pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = close;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      out += pattern[++i]?.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&') ?? '';
    } else out += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(out + '$', 's');
}

/** Clean a source path; `..` that climbs out of the root is docker's "forbidden path" error. */
export function cleanSourcePath(source: string): string {
  const cleaned = path.posix.normalize(`/${source}`).slice(1);
  const naive = path.posix.normalize(source);
  if (naive === '..' || naive.startsWith('../')) {
    throw invalidArgument('BUILD_FORBIDDEN_PATH', `forbidden path outside the build context: ${source}`);
  }
  return cleaned === '' ? '.' : cleaned;
}

/** Expand one source (maybe a wildcard) inside `root`; skip() hides ignored paths. */
export async function matchSources(root: string, source: string, skip: (rel: string) => boolean, what: string): Promise<SourceItem[]> {
  const cleaned = cleanSourcePath(source);
  const components = cleaned === '.' ? [] : cleaned.split('/');
  let candidates = [''];
  for (const component of components) {
    const next: string[] = [];
    for (const base of candidates) {
      if (!WILDCARD.test(component)) { next.push(base === '' ? component : `${base}/${component}`); continue; }
      const re = componentRegExp(component);
      let names: string[] = [];
      try {
        names = await readdir(await resolveInRoot(root, base));
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
      }
      for (const name of names.sort()) if (re.test(name)) next.push(base === '' ? name : `${base}/${name}`);
    }
    candidates = next;
  }
  const items: SourceItem[] = [];
  for (const relative of candidates) {
    if (relative !== '' && skip(relative)) continue;
    const hostPath = await resolveInRoot(root, relative);
    try {
      const info = await lstat(hostPath);
      items.push({ hostPath, relative, isDir: info.isDirectory() });
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
  }
  if (items.length === 0) {
    throw notFound('BUILD_SOURCE_NOT_FOUND', `${what}: file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist`);
  }
  return items;
}

export const isRemoteUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** Upper bound on an ADD download, against endless or lying servers. */
export const MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024;

function fileNameOfUrl(url: URL): string {
  const base = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  return base === '' || base === '.' || base === '..' ? '' : base;
}

/** Download an ADD URL into a private directory: name from the URL, mtime from Last-Modified. */
export async function downloadSource(url: string, fetcher: typeof fetch, checksum: string | undefined, what: string): Promise<SourceItem & { sha256: string; cleanup: () => Promise<void> }> {
  let parsed: URL;
  try { parsed = new URL(url); } catch (cause) { throw invalidArgument('BUILD_BAD_URL', `${what}: invalid URL ${url}`, { cause }); }
  let response: Response;
  try {
    response = await fetcher(parsed, { redirect: 'follow' });
  } catch (cause) {
    throw new BerthError('unavailable', 'BUILD_DOWNLOAD_FAILED', `${what}: failed to download ${url}: ${(cause as Error).message}`, { cause });
  }
  if (!response.ok || !response.body) {
    throw new BerthError('unavailable', 'BUILD_DOWNLOAD_FAILED', `${what}: failed to download ${url}: server answered ${response.status} ${response.statusText}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-build-download-'));
  const cleanup = async (): Promise<void> => { await rm(dir, { recursive: true, force: true }); };
  try {
    const name = fileNameOfUrl(new URL(response.url || url)) || fileNameOfUrl(parsed) || 'download';
    const hostPath = path.join(dir, 'content');
    const declared = response.headers.get('content-length');
    const hash = createHash('sha256');
    let size = 0;
    const file = await open(hostPath, 'w', 0o600);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_DOWNLOAD_BYTES) throw invalidArgument('BUILD_DOWNLOAD_TOO_LARGE', `${what}: ${url} is larger than ${MAX_DOWNLOAD_BYTES} bytes`);
        hash.update(chunk);
        await file.write(chunk);
      }
    } finally {
      await file.close();
    }
    if (declared !== null && Number(declared) !== size) {
      throw invalidArgument('BUILD_DOWNLOAD_SIZE', `${what}: ${url} announced ${declared} bytes but sent ${size}`);
    }
    const sha256 = hash.digest('hex');
    if (checksum !== undefined && checksum !== `sha256:${sha256}`) {
      throw invalidArgument('BUILD_CHECKSUM_MISMATCH', `${what}: checksum of ${url} is sha256:${sha256}, expected ${checksum}`);
    }
    const modified = response.headers.get('last-modified');
    const mtime = modified ? new Date(modified) : undefined;
    if (mtime && !Number.isNaN(mtime.getTime())) await utimes(hostPath, mtime, mtime);
    return { hostPath, relative: name, isDir: false, remote: { url, name }, sha256, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Write a heredoc body to a private file so it can be copied like any source. */
export async function heredocSource(name: string, content: string): Promise<SourceItem & { cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-build-heredoc-'));
  const hostPath = path.join(dir, 'content');
  await writeFile(hostPath, content, { mode: 0o644 });
  return { hostPath, relative: name, isDir: false, cleanup: async () => { await rm(dir, { recursive: true, force: true }); } };
}

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

/** Recognise what ADD auto-extracts by its magic bytes, as docker does (not by file name). */
export async function archiveKind(file: string): Promise<ArchiveKind | undefined> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(512);
    const { bytesRead } = await handle.read(header, 0, 512, 0);
    if (bytesRead >= 2 && header[0] === 0x1f && header[1] === 0x8b) return 'gzip';
    if (bytesRead >= 3 && header.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (bytesRead >= 6 && header.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (bytesRead >= 262 && header.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await handle.close();
  }
}
