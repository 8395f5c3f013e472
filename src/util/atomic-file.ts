// Crash-safe metadata writes (DESIGN.md): temp file, fsync, rename, fsync of the directory.
// `durable: false` keeps the atomic rename (a reader or a kill -9 never sees half a file)
// but skips both fsyncs: for state that a reboot makes meaningless anyway (runtime state
// under /run describing processes that a power loss kills too).
import { open, rename, mkdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode } from '../errors/berth-error.js';

export interface AtomicWriteOptions {
  /** fsync the file and its directory (default true) */
  durable?: boolean;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644, options: AtomicWriteOptions = {}): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await openInDirectory(dir, temp, mode);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(temp, file);
  if (durable) await syncDirectory(dir);
}

/** Open a new file; its directory is made only when missing (the directory is there for almost every write). */
async function openInDirectory(dir: string, file: string, mode: number): Promise<FileHandle> {
  try {
    return await open(file, 'w', mode);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true });
  return await open(file, 'w', mode);
}

export async function writeJsonAtomic(file: string, value: unknown, mode = 0o644, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode, options);
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
