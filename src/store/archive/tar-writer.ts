// A tar writer producing POSIX (PAX) archives as Docker does: ustar headers, PAX records
// for long names, big numbers and xattrs. Output is deterministic for the same input.
import { internal } from '../../errors/berth-error.js';
import type { TarEntryType } from './tar-reader.js';

export interface TarWriteHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  uname?: string;
  gname?: string;
  xattrs?: Map<string, Buffer>;
}

export interface TarWriteEntry {
  header: TarWriteHeader;
  /** file content; its total length must equal header.size */
  body?: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

const BLOCK = 512;
const TYPE_FLAG: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function writeString(block: Buffer, offset: number, length: number, value: string): boolean {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) return false;
  bytes.copy(block, offset);
  return true;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const text = Math.floor(value).toString(8).padStart(length - 1, '0');
  block.write(`${text}\0`, offset, length, 'latin1');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length), 'latin1'), body]);
}

function ustarHeader(h: TarWriteHeader, name: string, linkname: string, flag: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, Math.min(h.uid ?? 0, MAX_OCTAL_8));
  writeOctal(block, 116, 8, Math.min(h.gid ?? 0, MAX_OCTAL_8));
  writeOctal(block, 124, 12, Math.min(size, MAX_OCTAL_12));
  writeOctal(block, 136, 12, Math.min(Math.max(0, Math.floor(h.mtime ?? 0)), MAX_OCTAL_12));
  block.write(flag, 156, 1, 'latin1');
  writeString(block, 157, 100, linkname);
  block.write('ustar\x0000', 257, 8, 'latin1');
  writeString(block, 265, 32, h.uname ?? '');
  writeString(block, 297, 32, h.gname ?? '');
  writeOctal(block, 329, 8, h.devmajor ?? 0);
  writeOctal(block, 337, 8, h.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] ?? 0;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** Split a long name into ustar prefix/name if possible. */
function splitUstarName(name: string): { prefix: string; base: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base !== '') return { prefix, base };
  }
  return undefined;
}

/** The header blocks (PAX header when needed, then ustar) for one entry. */
export function encodeHeader(h: TarWriteHeader): Buffer {
  const size = h.type === 'file' ? h.size ?? 0 : 0;
  const pax: Buffer[] = [];
  const split = splitUstarName(h.name);
  const linkname = h.linkname ?? '';
  if (split === undefined) pax.push(paxRecord('path', Buffer.from(h.name)));
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', Buffer.from(linkname)));
  if (size > MAX_OCTAL_12) pax.push(paxRecord('size', Buffer.from(String(size))));
  if ((h.uid ?? 0) > MAX_OCTAL_8) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if ((h.gid ?? 0) > MAX_OCTAL_8) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  for (const [key, value] of [...(h.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    pax.push(paxRecord(`SCHILY.xattr.${key}`, value));
  }
  const main = ustarHeader(h, split?.base ?? h.name.slice(0, 100), linkname.length > 100 ? linkname.slice(0, 100) : linkname,
    TYPE_FLAG[h.type], size);
  if (split !== undefined && split.prefix !== '') writeString(main, 345, 155, split.prefix);
  if (split !== undefined && split.prefix !== '') {
    main.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += main[i] ?? 0;
    main.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  }
  if (pax.length === 0) return main;
  const paxData = Buffer.concat(pax);
  const paxHeader = ustarHeader({ name: 'PaxHeaders', type: 'file', mode: 0o644, mtime: h.mtime ?? 0 },
    `PaxHeaders.0/${(split?.base ?? 'entry').slice(0, 80)}`, '', 'x', paxData.length);
  return Buffer.concat([paxHeader, paxData, padding(paxData.length), main]);
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** Serialise entries into tar bytes; ends with the two zero blocks. */
export async function* writeTar(entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    yield encodeHeader(entry.header);
    if (entry.header.type !== 'file') continue;
    const size = entry.header.size ?? 0;
    let written = 0;
    const body = entry.body;
    if (body instanceof Uint8Array) {
      written = body.byteLength;
      if (written > 0) yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    } else if (body !== undefined) {
      for await (const chunk of body) {
        written += chunk.byteLength;
        if (written > size) throw internal('TAR_ENTRY_CHANGED', `tar entry "${entry.header.name}" grew while being archived`);
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    }
    if (written !== size) throw internal('TAR_ENTRY_CHANGED', `tar entry "${entry.header.name}" has ${written} bytes, header said ${size}`);
    yield padding(size);
  }
  yield Buffer.alloc(BLOCK * 2);
}
