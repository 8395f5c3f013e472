// ADD of a local tar archive (plain, gzip, bzip2, xz): unpacked into the destination with
// node-tar, which refuses `..` entries and writing through symlinks (strict mode turns those
// warnings into errors). bzip2 and xz are first decompressed by the system tools.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { invalidArgument } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import type { ArchiveKind } from './sources.js';

async function plainTarOf(file: string, kind: ArchiveKind, scratch: string): Promise<string> {
  if (kind === 'tar' || kind === 'gzip') return file;
  const suffix = kind === 'xz' ? '.xz' : '.bz2';
  const compressed = path.join(scratch, `archive.tar${suffix}`);
  await copyFile(file, compressed);
  await runProgram(kind === 'xz' ? 'xz' : 'bzip2', ['-d', '-q', compressed]);
  return path.join(scratch, 'archive.tar');
}

/** Unpack `file` into the host directory `dest` (inside a container root). */
export async function extractArchive(file: string, kind: ArchiveKind, dest: string, what: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'berth-build-archive-'));
  try {
    const plain = await plainTarOf(file, kind, scratch);
    await tar.x({
      file: plain,
      cwd: dest,
      strict: true,
      preservePaths: false,
      preserveOwner: owner === undefined,
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      unlink: true,
    });
  } catch (err) {
    if (err instanceof Error && !('kind' in err)) {
      throw invalidArgument('BUILD_BAD_ARCHIVE', `${what}: cannot unpack archive ${path.basename(file)}: ${err.message}`, { cause: err });
    }
    throw err;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
