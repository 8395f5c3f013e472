// Index an uncompressed context tarball while it arrives: every member's type, mode, size
// and content hash, computed chunk by chunk as the body streams in (the hashing overlaps the
// client's upload, and nothing is copied), so a cached COPY needs neither extraction nor a
// second read. Only ustar name/prefix, GNU long names and PAX path/size/mtime are parsed;
// anything unexpected (a bad header checksum, links, devices, duplicates) makes the index
// inexact and the caller extracts with GNU tar and reads files on disk instead.
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';

export const normalizeMember = (name: string): string =>
  path.posix.normalize(name.replace(/^\/+/, '')).replace(/^\.\//, '').replace(/\/$/, '');

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
/** GNU long names and PAX headers are small; a bigger one is not trusted in memory */
const MAX_META_BYTES = 1024 * 1024;

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** A numeric header field: octal digits (GNU base-256 when the top bit is set), read in place. */
function numeric(buf: Buffer, start: number, length: number): number {
  const end = start + length;
  if (((buf[start] ?? 0) & 0x80) !== 0) {
    let value = 0;
    for (let i = start + 1; i < end; i++) value = value * 256 + (buf[i] ?? 0);
    return value;
  }
  let i = start;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x30)) i++;
  let value = 0;
  for (; i < end; i++) {
    const digit = (buf[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  return value;
}

/**
 * The header checksum as tar defines it: the byte sum with the checksum field read as
 * spaces (unsigned bytes, or signed as some old tars wrote it; GNU tar accepts both).
 */
function checksumMatches(header: Buffer): boolean {
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const byte = header[i] ?? 0;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const stored = numeric(header, 148, 8);
  return stored === unsigned || stored === signed;
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
  /** a file's bytes, as views into the received chunks (see entryBody); only for the names the indexer keeps */
  parts: Buffer[] | undefined;
}

/** A file member's bytes in one buffer (a copy only when they span several chunks). */
export function entryBody(entry: TarIndexEntry): Buffer | undefined {
  if (!entry.parts) return undefined;
  return entry.parts.length === 1 ? entry.parts[0] : Buffer.concat(entry.parts);
}

/**
 * Everything about a plain tarball's members, read from memory. `exact` says the index
 * describes the extracted tree exactly (no links, no duplicates, no odd names, every
 * parent directory present, every header intact), so a cached COPY can be planned without
 * extracting at all.
 */
export interface TarIndex {
  entries: Map<string, TarIndexEntry>;
  exact: boolean;
}

type MemberKind = 'meta-longname' | 'meta-pax' | 'skip' | 'entry';

/** What is being read now: a member's body (hashed or kept) and the padding after it. */
interface Member {
  kind: MemberKind;
  remaining: number;
  padding: number;
  entry?: TarIndexEntry;
  hash?: Hash;
  meta?: Buffer[];
}

/**
 * Feed the tarball's chunks in order with push(), then take the index with finish().
 * `keepBody` names the files whose bytes stay readable (entryBody) as views into the pushed
 * chunks; by default all. A daemon keeps only the few it reads (Dockerfile, ignore files),
 * so the chunks of every other file can be freed.
 */
export class TarIndexer {
  private readonly entries = new Map<string, TarIndexEntry>();
  private exact = true;
  /** the end-of-archive block was seen (or the stream was given up on) */
  private stopped = false;
  private ended = false;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private member: Member | undefined;
  private longName: string | undefined;
  private pax = new Map<string, string>();

  constructor(private readonly keepBody: (name: string) => boolean = () => true) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.stopped) {
      const member = this.member;
      if (member && member.remaining > 0) {
        const take = Math.min(member.remaining, chunk.length - pos);
        this.consumeBody(member, chunk.subarray(pos, pos + take));
        member.remaining -= take;
        pos += take;
        if (member.remaining === 0) this.endBody(member);
        continue;
      }
      if (member && member.padding > 0) {
        const skip = Math.min(member.padding, chunk.length - pos);
        member.padding -= skip;
        pos += skip;
        continue;
      }
      this.member = undefined;
      if (this.headerFill === 0 && chunk.length - pos >= BLOCK) {
        // the usual case: a whole header inside this chunk, read in place
        this.onHeader(chunk.subarray(pos, pos + BLOCK));
        pos += BLOCK;
        continue;
      }
      const take = Math.min(BLOCK - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + take);
      this.headerFill += take;
      pos += take;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onHeader(this.header);
      }
    }
  }

  finish(): TarIndex {
    if (!this.ended || (this.member && this.member.remaining > 0)) this.exact = false;
    for (const name of this.entries.keys()) {
      const parent = path.posix.dirname(name);
      if (parent !== '.' && this.entries.get(parent)?.type !== 'dir') { this.exact = false; break; }
    }
    return { entries: this.entries, exact: this.exact };
  }

  private giveUp(): void {
    this.exact = false;
    this.stopped = true;
  }

  private onHeader(header: Buffer): void {
    if (header.equals(ZERO_BLOCK)) { this.ended = true; this.stopped = true; return; }
    if (!checksumMatches(header)) { this.giveUp(); return; }
    const type = String.fromCharCode(header[156] ?? 0x30);
    const size = this.pax.has('size') ? Number(this.pax.get('size')) : numeric(header, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) { this.giveUp(); return; }
    const member: Member = { kind: 'skip', remaining: size, padding: (BLOCK - (size % BLOCK)) % BLOCK };
    this.member = member;
    if (type === 'L' || type === 'x') {
      if (size > MAX_META_BYTES) { this.giveUp(); return; }
      member.kind = type === 'L' ? 'meta-longname' : 'meta-pax';
      member.meta = [];
    } else if (type !== 'g') {
      member.kind = 'entry';
      this.addEntry(header, type, size, member);
    }
    if (size === 0) this.endBody(member);
  }

  private addEntry(header: Buffer, type: string, size: number, member: Member): void {
    const prefix = cString(header, 345, 155);
    const rawName = this.pax.get('path') ?? this.longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    const mtime = this.pax.has('mtime') ? Number(this.pax.get('mtime')) : numeric(header, 136, 12);
    this.longName = undefined;
    this.pax = new Map();
    const name = normalizeMember(rawName);
    if (name === '.' || name === '') return;
    if (name.startsWith('../') || name === '..' || this.entries.has(name)) this.exact = false;
    const kind = type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'dir' : type === '2' ? 'symlink' : 'other';
    if (kind === 'symlink' || kind === 'other') this.exact = false;
    const entry: TarIndexEntry = {
      type: kind, mode: numeric(header, 100, 8) & 0o7777, size, mtimeSeconds: Math.floor(mtime),
      digest: undefined, parts: kind === 'file' && this.keepBody(name) ? [] : undefined,
    };
    this.entries.set(name, entry);
    member.entry = entry;
    if (kind === 'file') member.hash = createHash('sha256');
  }

  private consumeBody(member: Member, part: Buffer): void {
    if (member.meta) member.meta.push(part);
    if (member.hash) {
      member.hash.update(part);
      member.entry?.parts?.push(part);
    }
  }

  private endBody(member: Member): void {
    if (member.kind === 'meta-longname') this.longName = cString(Buffer.concat(member.meta ?? []), 0, MAX_META_BYTES);
    else if (member.kind === 'meta-pax') this.pax = parsePax(Buffer.concat(member.meta ?? []));
    else if (member.hash && member.entry) member.entry.digest = member.hash.digest('hex');
  }
}

/** Index a whole tarball held in one buffer. */
export function indexTarBuffer(tar: Buffer): TarIndex {
  const indexer = new TarIndexer();
  indexer.push(tar);
  return indexer.finish();
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
    // names are normalized (no leading `/`, no `.` parts): the parent is all before the last `/`
    const slash = name.lastIndexOf('/');
    const parent = slash < 0 ? '.' : name.slice(0, slash);
    const list = children.get(parent);
    if (list) list.push(name.slice(slash + 1));
    else children.set(parent, [name.slice(slash + 1)]);
  }
  // the lines are hashed in batches: one native call per ~64 KiB instead of one per entry
  const hash = createHash('sha256');
  let pending = '';
  const add = (line: string): void => {
    pending += line;
    if (pending.length >= 65_536) { hash.update(pending); pending = ''; }
  };
  const visit = (rel: string): void => {
    const entry = rel === '' ? { type: 'dir' as const, mode: 0, size: 0, digest: undefined } : index.entries.get(rel);
    if (!entry) return;
    const mode = entry.mode.toString(8);
    if (entry.type === 'dir') {
      add(rel === '' ? 'd\n' : `d ${rel} ${mode}\n`);
      for (const name of (children.get(rel === '' ? '.' : rel) ?? []).sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (skip?.(childRel)) continue;
        visit(childRel);
      }
    } else if (entry.type === 'file') {
      add(`f ${rel} ${mode} ${entry.size} ${entry.digest ?? ''}\n`);
      files.set(rel, `${mode}:${entry.digest ?? ''}`);
    }
  };
  visit(relative);
  hash.update(pending);
  return { digest: hash.digest('hex'), isDir: top.type === 'dir' };
}
