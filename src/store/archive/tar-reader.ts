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
  checkNameLengths(header, limits);
}

function checkNameLengths(header: TarHeader, limits: TarLimits): void {
  if (header.name.length > limits.maxNameLength || header.linkname.length > limits.maxNameLength) {
    throw invalidArgument('INVALID_TAR', `tar entry "${header.name.slice(0, 100)}...": name longer than ${limits.maxNameLength}`);
  }
}

/** What one 512-byte header block says: the end, an extended header to read, or an entry. */
type HeaderStep =
  | { kind: 'end' }
  | { kind: 'extended'; flag: string; size: number; padded: number }
  | { kind: 'entry'; header: TarHeader; bodySize: number; bodyBlocks: number };

/**
 * The header half of a tar reader, shared by the streaming and the synchronous reader: every
 * check on names, sizes, counts and extended headers happens here, once.
 */
class TarHeaders {
  private globalPax = new Map<string, Buffer>();
  private pending: Pending = { pax: new Map() };
  private entries = 0;
  private total = 0;
  lastName = '(start of archive)';

  constructor(private readonly limits: TarLimits) {}

  /** Parse a header block (fewer than 512 bytes only at the end of the stream). */
  next(block: Buffer): HeaderStep {
    const limits = this.limits;
    const lastName = this.lastName;
    if (block.length === 0) return { kind: 'end' }; // tolerated: archive without end-of-archive blocks
    if (block.length < BLOCK) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated after entry "${lastName}"`);
    if (isZeroBlock(block)) return { kind: 'end' };
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
      return { kind: 'extended', flag, size, padded };
    }
    const type = TYPE_FLAGS[flag];
    if (type === undefined) {
      throw invalidArgument('UNSUPPORTED_TAR_ENTRY', `tar entry "${this.pending.longName ?? name}": unsupported type flag "${flag.replace(/\0/, '\\0')}"`);
    }
    const header: TarHeader = {
      name: this.pending.longName ?? name,
      type,
      mode: parseNumber(block, 100, 8, 'mode', name) & 0o7777,
      uid: parseNumber(block, 108, 8, 'uid', name),
      gid: parseNumber(block, 116, 8, 'gid', name),
      size,
      mtime: parseNumber(block, 136, 12, 'mtime', name),
      linkname: this.pending.longLink ?? cString(block, 157, 100),
      uname: cString(block, 265, 32),
      gname: cString(block, 297, 32),
      devmajor: type === 'char' || type === 'block' ? parseNumber(block, 329, 8, 'devmajor', name) : 0,
      devminor: type === 'char' || type === 'block' ? parseNumber(block, 337, 8, 'devminor', name) : 0,
      xattrs: new Map(),
    };
    if (this.globalPax.size > 0 || this.pending.pax.size > 0) applyPax(header, new Map([...this.globalPax, ...this.pending.pax]), limits);
    else checkNameLengths(header, limits);
    this.pending = { pax: new Map() };
    if (header.type !== 'file') header.size = header.type === 'hardlink' ? 0 : header.size;
    const bodyBlocks = header.type === 'file' ? Math.ceil(header.size / BLOCK) * BLOCK : padded;
    if (++this.entries > limits.maxEntries) throw invalidArgument('TAR_TOO_MANY_ENTRIES', `tar archive has more than ${limits.maxEntries} entries`);
    if (header.size > limits.maxEntryBytes) {
      throw invalidArgument('TAR_ENTRY_TOO_LARGE', `tar entry "${header.name}" is ${header.size} bytes, over the limit of ${limits.maxEntryBytes}`);
    }
    this.total += header.size;
    if (this.total > limits.maxTotalBytes) throw invalidArgument('TAR_TOO_LARGE', `tar archive content exceeds ${limits.maxTotalBytes} bytes at entry "${header.name}"`);
    this.lastName = header.name;
    return { kind: 'entry', header, bodySize: header.type === 'file' ? header.size : 0, bodyBlocks };
  }

  /** The data of an extended header (`padded` bytes, fewer if the stream ended); kept values are copies. */
  extended(step: { flag: string; size: number; padded: number }, data: Buffer): void {
    if (data.length < step.padded) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated in an extended header after "${this.lastName}"`);
    const content = data.subarray(0, step.size);
    const { flag } = step;
    if (flag === 'x') for (const [k, v] of parsePax(content, this.lastName)) this.pending.pax.set(k, Buffer.from(v));
    else if (flag === 'g') this.globalPax = new Map([...this.globalPax, ...[...parsePax(content, this.lastName)].map(([k, v]) => [k, Buffer.from(v)] as const)]);
    else if (flag === 'L') this.pending.longName = cString(content, 0, content.length);
    else this.pending.longLink = cString(content, 0, content.length);
  }
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Iterate the entries of an (uncompressed) tar stream. Every entry's body must be read or
 * is skipped when the next entry is requested. Throws invalid_argument on malformed input.
 */
export async function* readTar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limits: TarLimits = DEFAULT_TAR_LIMITS): AsyncGenerator<TarEntry> {
  const input = new ByteSource(source);
  const headers = new TarHeaders(limits);
  for (;;) {
    const step = headers.next(await input.read(BLOCK));
    if (step.kind === 'end') return;
    if (step.kind === 'extended') {
      headers.extended(step, await input.read(step.padded));
      continue;
    }
    let consumed = 0;
    const { bodySize, bodyBlocks } = step;
    const entryName = step.header.name;
    yield {
      header: step.header,
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

export interface TarEntrySync {
  header: TarHeader;
  /** The entry's bytes as views valid only until the next piece is taken; read now or skipped. */
  body(): Iterable<Buffer>;
}

/**
 * The synchronous reader (for a worker thread: no promise per chunk or entry). `next` returns
 * the stream's next chunk, which may reuse the previous chunk's memory: nothing is kept from
 * a chunk once the next one is asked for.
 */
export function* readTarSync(next: () => Buffer | undefined, limits: TarLimits = DEFAULT_TAR_LIMITS): Generator<TarEntrySync> {
  const input = new SyncByteSource(next);
  const headers = new TarHeaders(limits);
  for (;;) {
    const step = headers.next(input.read(BLOCK));
    if (step.kind === 'end') return;
    if (step.kind === 'extended') {
      headers.extended(step, input.read(step.padded));
      continue;
    }
    let consumed = 0;
    const { bodySize, bodyBlocks } = step;
    const entryName = step.header.name;
    yield {
      header: step.header,
      body: function* () {
        for (const piece of input.chunks(bodySize - consumed)) {
          consumed += piece.length;
          yield piece;
        }
        if (consumed < bodySize) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated in entry "${entryName}"`);
      },
    };
    const rest = bodyBlocks - consumed;
    if (rest > 0 && input.skip(rest) < rest) throw invalidArgument('TRUNCATED_TAR', `tar archive truncated in entry "${entryName}"`);
  }
}

/**
 * ByteSource's synchronous twin over chunks that may share memory: what is left of a chunk is
 * copied before the next one is taken, so a view handed out stays valid until the next call.
 */
class SyncByteSource {
  private head: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly next: () => Buffer | undefined) {}

  private take(): Buffer | undefined {
    if (this.ended) return undefined;
    const chunk = this.next();
    if (chunk === undefined) this.ended = true;
    return chunk;
  }

  /** Exactly n bytes (fewer only at the end of the stream). */
  read(n: number): Buffer {
    if (this.head.length >= n) {
      const out = this.head.subarray(0, n);
      this.head = this.head.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = this.head.copy(out);
    this.head = Buffer.alloc(0);
    while (filled < n) {
      const chunk = this.take();
      if (chunk === undefined) return out.subarray(0, filled);
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      this.head = chunk.subarray(part);
    }
    return out;
  }

  /** Up to n bytes as views of the chunks; ends early only at the end of the stream. */
  *chunks(n: number): Generator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.head.length === 0) {
        const chunk = this.take();
        if (chunk === undefined) return;
        this.head = chunk;
        continue;
      }
      const piece = this.head.length <= left ? this.head : this.head.subarray(0, left);
      this.head = this.head.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  skip(n: number): number {
    let skipped = 0;
    for (const piece of this.chunks(n)) skipped += piece.length;
    return skipped;
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
