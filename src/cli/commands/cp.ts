import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { defineCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { isDaemonError, StatusExit, UsageError } from '../errors.js';

interface Location { container?: string; path: string }

/** "CONTAINER:PATH" or a local path (a local path with a colon must start with / or ./) */
export function splitCpArg(arg: string): Location {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  return colon <= 0 ? { path: arg } : { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Replace the first path component: the archive's top entry becomes `name`. */
function rebase(entryPath: string, from: string, to: string): string {
  const clean = entryPath.replace(/^\.\//, '');
  return clean === from || clean === `${from}/` ? to : clean.startsWith(`${from}/`) ? `${to}${clean.slice(from.length)}` : clean;
}

async function localKind(p: string): Promise<'dir' | 'file' | 'none'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

async function fromContainer(ctx: CliContext, container: string, src: string, dest: string): Promise<void> {
  const res = await ctx.client().getArchive(container, src);
  if (dest === '-') { await pipeline(res, ctx.streams.stdout, { end: false }); return; }
  const srcBase = path.posix.basename(src.replace(/\/+$/, '')) || '/';
  const kind = await localKind(dest);
  if (kind === 'none' && dest.endsWith('/')) throw new StatusExit(1, `destination directory ${dest} does not exist`);
  const targetDir = kind === 'dir' ? dest : path.dirname(dest);
  const newBase = kind === 'dir' ? srcBase : path.basename(dest);
  const copyContents = src.endsWith('/.');
  await pipeline(res, tar.x({
    cwd: targetDir,
    preserveOwner: false,
    onReadEntry: (entry) => {
      entry.path = copyContents ? entry.path.replace(/^[^/]+\/?/, `${newBase}/`) : rebase(entry.path, srcBase, newBase);
    },
  }));
}

async function toContainer(ctx: CliContext, src: string, container: string, dest: string): Promise<void> {
  const client = ctx.client();
  const kind = await localKind(src);
  if (kind === 'none') throw new StatusExit(1, `lstat ${path.resolve(src)}: no such file or directory`);
  let destIsDir = dest.endsWith('/');
  try {
    const info = await client.statPath(container, dest);
    if (typeof info === 'object' && info !== null && 'mode' in info && typeof info.mode === 'number') destIsDir = (info.mode & 0x80000000) !== 0;
  } catch (err) {
    if (!(isDaemonError(err) && err.kind === 'not_found')) throw err;
    if (destIsDir) throw new StatusExit(1, `Error response from daemon: Could not find the file ${dest} in container ${container}`);
  }
  const srcBase = path.basename(path.resolve(src));
  const targetDir = destIsDir ? dest : path.posix.dirname(dest);
  const newBase = destIsDir ? srcBase : path.posix.basename(dest);
  const archive = tar.c({
    cwd: path.dirname(path.resolve(src)), portable: true,
    onWriteEntry: (entry) => { entry.path = rebase(entry.path, srcBase, newBase); },
  }, [srcBase]);
  await client.putArchive(container, targetDir, Readable.from(archive), { noOverwriteDirNonDir: true });
}

export default defineCommand({
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  description: 'Copy files/folders between a container and the local filesystem',
  minArgs: 2,
  maxArgs: 2,
  options(cmd) {
    cmd.option('-a, --archive', 'Archive mode (copy all uid/gid information)')
      .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
      .option('-q, --quiet', 'Suppress progress output during copy');
  },
  async run(ctx, [srcArg = '', destArg = '']) {
    const src = splitCpArg(srcArg);
    const dest = splitCpArg(destArg);
    if (src.container !== undefined && dest.container !== undefined) throw new UsageError('copying between containers is not supported', 1, false);
    if (src.container === undefined && dest.container === undefined) throw new UsageError('must specify at least one container source', 1, false);
    if (src.container !== undefined) await fromContainer(ctx, src.container, src.path, dest.path);
    else if (dest.container !== undefined) {
      if (src.path === '-') { await ctx.client().putArchive(dest.container, dest.path, ctx.streams.stdin); return; }
      await toContainer(ctx, src.path, dest.container, dest.path);
    }
  },
});
