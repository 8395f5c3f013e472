// A small host file (/etc/resolv.conf) that every container start copies: kept in memory and
// read again only when it changed. One stat (synchronous: microseconds for a local file, less
// than a thread-pool round trip) instead of open, fstat, read and close through the pool.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ChangedFileOptions {
  /** a file changed less than this long ago is read at every call (default 2 s) */
  racyMs?: number;
  read?: (file: string) => Promise<string>;
}

export class ChangedFile {
  private kept: { identity: string; text: string } | undefined;
  private readonly racyMs: number;
  private readonly readText: (file: string) => Promise<string>;

  constructor(readonly file: string, options: ChangedFileOptions = {}) {
    this.racyMs = options.racyMs ?? 2_000;
    this.readText = options.read ?? ((f) => readFile(f, 'utf8'));
  }

  /** The file's text ('' when it is missing or unreadable), read anew when its identity changed. */
  async read(): Promise<string> {
    let identity: string;
    let changedMs: number;
    try {
      // a rename (another inode), truncation or any write (size, mtime, ctime) shows here
      const info = statSync(this.file, { bigint: true });
      identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
      changedMs = Number((info.ctimeNs > info.mtimeNs ? info.ctimeNs : info.mtimeNs) / 1_000_000n);
    } catch {
      this.kept = undefined;
      return '';
    }
    if (this.kept?.identity === identity) return this.kept.text;
    const text = await this.readText(this.file).catch(() => undefined);
    if (text === undefined) return '';
    // timestamps are coarse (a clock tick): a write in the same tick as the one before may leave
    // the identity unchanged, so a file changed this recently is not kept (git's "racy clean")
    this.kept = Date.now() - changedMs > this.racyMs ? { identity, text } : undefined;
    return text;
  }
}
