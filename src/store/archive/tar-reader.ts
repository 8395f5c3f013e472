// A streaming tar reader for archives from strangers: ustar, GNU long names and PAX
// (binary-safe, with SCHILY.xattr.*), every size and count bounded, every malformed
// header an error naming the entry. Bodies are streamed, never buffered whole.
import { invalidArgument } from '../../errors/berth-error.js';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch (may be fractional from PAX) */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  uname: string;
  gname: string;
  xattrs: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's bytes; must be consumed before asking for the next entry, or it is skipped. */
  body(): AsyncIterable<Buffer>;
}

export interface TarLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxNameLength: number;
  maxPaxBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 2_000_000,
  maxEntryBytes: 64 * 1024 ** 3,
  maxTotalBytes: 256 * 1024 ** 3,
  maxNameLength: 4096,
  maxPaxBytes: 1024 * 1024,
};

const BLOCK = 512;

/** Pulls exact byte counts out of a chunked source without copying more than needed. */
class ByteSource {
  private buffered: Buffer[] = [];
  private available = 0;
  private done = false;
  private readonly iterator: AsyncIterator<Uint8Array>;
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.iterator = Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (async function* () { yield* source; })();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.iterator.next();
    if (next.done === true) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    if (chunk.length > 0) {
      this.buffered.push(chunk);
      this.available += chunk.length;
    }
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.available < n) if (!(await this.fill())) break;
    const take = Math.min(n, this.available);
    const head = this.buffered[0];
    let out: Buffer;
    if (head !== undefined && head.length >= take) {
      out = head.subarray(0, take); // the common case: no copy
      if (head.length === take) this.buffered.shift();
      else this.buffered[0] = head.subarray(take);
    } else {
      out = Buffer.allocUnsafe(take);
      let filled = 0;
      while (filled < take) {
        const chunk = this.buffered[0] as Buffer;
        const part = Math.min(chunk.length, take - filled);
        chunk.copy(out, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.buffered.shift();
        else this.buffered[0] = chunk.subarray(part);
      }
    }
    this.available -= take;
    this.consumed += take;
    return out;
  }

  /** Up to n bytes as they arrive (zero-copy chunks). Ends early only at the end of stream. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.available === 0 && !(await this.fill())) return;
      const head = this.buffered[0] as Buffer;
      const piece = head.length <= left ? head : head.subarray(0, left);
      if (piece.length === head.length) this.buffered.shift();
      else this.buffered[0] = head.subarray(piece.length);
      this.available -= piece.length;
      this.consumed += piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const piece of this.chunks(n)) skipped += piece.length;
    return skipped;
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

function parseNumber(block: Buffer, start: number, length: number, field: string, entry: string): number {
  const bytes = block.subarray(start, start + length);
  if (((bytes[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256: big-endian, first byte's high bit is the marker
    if (((bytes[0] ?? 0) & 0x40) !== 0) throw invalidArgument('INVALID_TAR', `tar entry "${entry}": negative ${field}`);
    let value = (bytes[0] ?? 0) & 0x3f;
    for (let i = 1; i < bytes.length; i++) {
      value = value * 256 + (bytes[i] ?? 0);
      if (value > Number.MAX_SAFE_INTEGER) throw invalidArgument('INVALID_TAR', `tar entry "${entry}": ${field} too large`);
    }
    return value;
  }
  const text = bytes.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ \0]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalidArgument('INVALID_TAR', `tar entry "${entry}": bad ${field} field "${text}"`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = parseNumber(block, 148, 8, 'checksum', '(header)');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === stored;
}

const TYPE_FLAGS: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** Binary-safe PAX records: "<len> <key>=<value>\n", len counting the whole record. */
export function parsePax(data: Buffer, entry: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw invalidArgument('INVALID_TAR', `tar entry "${entry}": malformed pax record`);
    const length = Number.parseInt(data.subarray(pos, space).toString('latin1'), 10);
    if (!Number.isInteger(length) || length <= space - pos || pos + length > data.length || data[pos + length - 1] !== 0x0a) {
      throw invalidArgument('INVALID_TAR', `tar entry "${entry}": malformed pax record`);
    }
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw invalidArgument('INVALID_TAR', `tar entry "${entry}": malformed pax record`);
    records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos += length;
  }
  return records;
}

interface Pending { pax: Map<string, Buffer>; longName?: string; longLink?: string }

function applyPax(header: TarHeader, pax: Map<string, Buffer>, limits: TarLimits): void {
  for (const [key, value] of pax) {
    const text = (): string => value.toString('utf8');
    const int = (): number => {
      if (!/^[0-9]+$/.test(text())) throw invalidArgument('INVALID_TAR', `tar entry "${header.name}": bad pax ${key} "${text()}"`);
      const n = Number(text());
      if (!Number.isSafeInteger(n)) throw invalidArgument('INVALID_TAR', `tar entry "${header.name}": pax ${key} too large`);
      return n;
    };
    if (key === 'path') header.name = text();
    else if (key === 'linkpath') header.linkname = text();
    else if (key === 'size') header.size = int();
    else if (key === 'uid') header.uid = int();
    else if (key === 'gid') header.gid = int();
    else if (key === 'uname') header.uname = text();
    else if (key === 'gname') header.gname = text();
    else if (key === 'mtime') header.mtime = Number.parseFloat(text()) || 0;
    else if (key.startsWith('SCHILY.xattr.')) header.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    else if (key.startsWith('GNU.sparse.')) {
      throw invalidArgument('INVALID_TAR', `tar entry "${header.name}": sparse files are not supported`);
    }
  }
  if (header.name.length > limits.maxNameLength || header.linkname.length > limits.maxNameLength) {
    throw invalidArgument('INVALID_TAR', `tar entry "${header.name.slice(0, 100)}...": name longer than ${limits.maxNameLength}`);
  }
}

/**
 * Iterate the entries of an (uncompressed) tar stream. Every entry's body must be read or
 * is skipped when the next entry is requested. Throws invalid_argument on malformed input.
 */
export async function* readTar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limits: TarLimits = DEFAULT_TAR_LIMITS): AsyncGenerator<TarEntry> {
  const input = new ByteSource(source);
  let globalPax = new Map<string, Buffer>();
  let pending: Pending = { pax: new Map() };
  let entries = 0;
  let total = 0;
  let lastName = '(start of archive)';
  for (;;) {
    const block = await input.read(BLOCK);
    if (block.length === 0) return; // tolerated: archive without end-of-archive blocks
    if (block.length < BLOCK) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated after entry "${lastName}"`);
    if (block.every((b) => b === 0)) return;
    if (!checksumOk(block)) throw invalidArgument('INVALID_TAR', `tar header checksum mismatch after entry "${lastName}"`);
    const flag = String.fromCharCode(block[156] ?? 0);
    const magic = block.subarray(257, 263).toString('latin1');
    let name = cString(block, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cString(block, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    const size = parseNumber(block, 124, 12, 'size', name);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const max = flag === 'L' || flag === 'K' ? limits.maxNameLength + 1 : limits.maxPaxBytes;
      if (size > max) throw invalidArgument('INVALID_TAR', `tar extended header after "${lastName}" is ${size} bytes, over the limit of ${max}`);
      const data = await input.read(padded);
      if (data.length < padded) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated in an extended header after "${lastName}"`);
      const content = data.subarray(0, size);
      if (flag === 'x') for (const [k, v] of parsePax(content, lastName)) pending.pax.set(k, v);
      else if (flag === 'g') globalPax = new Map([...globalPax, ...parsePax(content, lastName)]);
      else if (flag === 'L') pending.longName = cString(content, 0, content.length);
      else pending.longLink = cString(content, 0, content.length);
      continue;
    }
    const type = TYPE_FLAGS[flag];
    if (type === undefined) {
      throw invalidArgument('UNSUPPORTED_TAR_ENTRY', `tar entry "${pending.longName ?? name}": unsupported type flag "${flag.replace(/\0/, '\\0')}"`);
    }
    const header: TarHeader = {
      name: pending.longName ?? name,
      type,
      mode: parseNumber(block, 100, 8, 'mode', name) & 0o7777,
      uid: parseNumber(block, 108, 8, 'uid', name),
      gid: parseNumber(block, 116, 8, 'gid', name),
      size,
      mtime: parseNumber(block, 136, 12, 'mtime', name),
      linkname: pending.longLink ?? cString(block, 157, 100),
      uname: cString(block, 265, 32),
      gname: cString(block, 297, 32),
      devmajor: type === 'char' || type === 'block' ? parseNumber(block, 329, 8, 'devmajor', name) : 0,
      devminor: type === 'char' || type === 'block' ? parseNumber(block, 337, 8, 'devminor', name) : 0,
      xattrs: new Map(),
    };
    applyPax(header, new Map([...globalPax, ...pending.pax]), limits);
    pending = { pax: new Map() };
    if (header.type !== 'file') header.size = header.type === 'hardlink' ? 0 : header.size;
    const bodyBlocks = header.type === 'file' ? Math.ceil(header.size / BLOCK) * BLOCK : padded;
    if (++entries > limits.maxEntries) throw invalidArgument('TAR_TOO_MANY_ENTRIES', `tar archive has more than ${limits.maxEntries} entries`);
    if (header.size > limits.maxEntryBytes) {
      throw invalidArgument('TAR_ENTRY_TOO_LARGE', `tar entry "${header.name}" is ${header.size} bytes, over the limit of ${limits.maxEntryBytes}`);
    }
    total += header.size;
    if (total > limits.maxTotalBytes) throw invalidArgument('TAR_TOO_LARGE', `tar archive content exceeds ${limits.maxTotalBytes} bytes at entry "${header.name}"`);
    lastName = header.name;
    let consumed = 0;
    const bodySize = header.type === 'file' ? header.size : 0;
    const entryName = header.name;
    yield {
      header,
      body: async function* () {
        for await (const piece of input.chunks(bodySize - consumed)) {
          consumed += piece.length;
          yield piece;
        }
        if (consumed < bodySize) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated in entry "${entryName}"`);
      },
    };
    const rest = bodyBlocks - consumed;
    if (rest > 0 && (await input.skip(rest)) < rest) {
      throw invalidArgument('TRUNCATED_TAR', `tar archive truncated in entry "${entryName}"`);
    }
  }
}

/** Normalise an entry path to a relative, clean form; reject absolute paths and `..`. */
export function cleanEntryPath(name: string, what = 'tar entry'): string {
  if (name.includes('\0')) throw invalidArgument('UNSAFE_TAR_PATH', `${what} "${name}": path contains a NUL byte`);
  if (name.startsWith('/')) throw invalidArgument('UNSAFE_TAR_PATH', `${what} "${name}": absolute paths are not allowed`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalidArgument('UNSAFE_TAR_PATH', `${what} "${name}": ".." leads out of the root`);
    parts.push(part);
  }
  return parts.join('/');
}
