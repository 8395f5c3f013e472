// Index an uncompressed context tarball straight from its bytes: every member's type, mode,
// size and content hash, so a cached COPY needs neither extraction nor a second read. Only
// ustar name/prefix, GNU long names and PAX path/size/mtime are parsed; anything unexpected
// makes the index inexact and the caller extracts and reads files on disk instead.
import { createHash } from 'node:crypto';
import path from 'node:path';

export const normalizeMember = (name: string): string =>
  path.posix.normalize(name.replace(/^\/+/, '')).replace(/^\.\//, '').replace(/\/$/, '');

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function numeric(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = cString(buf, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(body.subarray(pos, space).toString('latin1'));
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return out;
}

export interface TarIndexEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  mtimeSeconds: number;
  /** sha256 hex of a file's content */
  digest: string | undefined;
  /** a file's bytes (a view into the received tarball) */
  body: Buffer | undefined;
}

/**
 * Everything about a plain tarball's members, read from memory. `exact` says the index
 * describes the extracted tree exactly (no links, no duplicates, no odd names, every
 * parent directory present), so a cached COPY can be planned without extracting at all.
 */
export interface TarIndex {
  entries: Map<string, TarIndexEntry>;
  exact: boolean;
}

export function indexTarBuffer(tar: Buffer): TarIndex {
  const entries = new Map<string, TarIndexEntry>();
  let exact = true;
  let pos = 0;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  let ended = false;
  while (pos + 512 <= tar.length) {
    const header = tar.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) { ended = true; break; }
    const type = String.fromCharCode(header[156] ?? 0x30);
    const size = pax.has('size') ? Number(pax.get('size')) : numeric(header, 124, 12);
    const bodyStart = pos + 512;
    const bodyEnd = bodyStart + size;
    if (!Number.isSafeInteger(size) || size < 0 || bodyEnd > tar.length) { exact = false; break; }
    const body = tar.subarray(bodyStart, bodyEnd);
    pos = bodyStart + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = cString(body, 0, body.length); continue; }
    if (type === 'x') { pax = parsePax(body); continue; }
    if (type === 'g') continue;
    const prefix = cString(header, 345, 155);
    const rawName = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    const mtime = pax.has('mtime') ? Number(pax.get('mtime')) : numeric(header, 136, 12);
    longName = undefined;
    pax = new Map();
    const name = normalizeMember(rawName);
    if (name === '.' || name === '') continue;
    if (name.startsWith('../') || name === '..' || entries.has(name)) exact = false;
    const kind = type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'dir' : type === '2' ? 'symlink' : 'other';
    if (kind === 'symlink' || kind === 'other') exact = false;
    entries.set(name, {
      type: kind, mode: numeric(header, 100, 8) & 0o7777, size, mtimeSeconds: Math.floor(mtime),
      digest: kind === 'file' ? createHash('sha256').update(body).digest('hex') : undefined,
      body: kind === 'file' ? body : undefined,
    });
  }
  if (!ended) exact = false;
  for (const name of entries.keys()) {
    const parent = path.posix.dirname(name);
    if (parent !== '.' && entries.get(parent)?.type !== 'dir') { exact = false; break; }
  }
  return { entries, exact };
}

/**
 * The same checksum checksumTree computes on disk, from an exact index: DFS with names
 * sorted at each level, `d`/`f` lines, ignored paths skipped. Undefined when absent.
 */
export function checksumFromIndex(index: TarIndex, relative: string, skip: ((rel: string) => boolean) | undefined,
  files: Map<string, string>): { digest: string; isDir: boolean } | undefined {
  const top = relative === '' ? { type: 'dir' as const } : index.entries.get(relative);
  if (!top || (top.type !== 'file' && top.type !== 'dir')) return undefined;
  const children = new Map<string, string[]>();
  for (const name of index.entries.keys()) {
    const parent = path.posix.dirname(name);
    const list = children.get(parent) ?? [];
    list.push(path.posix.basename(name));
    children.set(parent, list);
  }
  const hash = createHash('sha256');
  const visit = (rel: string): void => {
    const entry = rel === '' ? { type: 'dir' as const, mode: 0, size: 0, digest: undefined } : index.entries.get(rel);
    if (!entry) return;
    const mode = entry.mode.toString(8);
    if (entry.type === 'dir') {
      hash.update(rel === '' ? 'd\n' : `d ${rel} ${mode}\n`);
      for (const name of (children.get(rel === '' ? '.' : rel) ?? []).sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (skip?.(childRel)) continue;
        visit(childRel);
      }
    } else if (entry.type === 'file') {
      hash.update(`f ${rel} ${mode} ${entry.size} ${entry.digest ?? ''}\n`);
      files.set(rel, `${mode}:${entry.digest ?? ''}`);
    }
  };
  visit(relative);
  return { digest: hash.digest('hex'), isDir: top.type === 'dir' };
}
