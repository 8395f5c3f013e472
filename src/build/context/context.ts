// The build context: a directory on the host (a tarball, also from stdin, is extracted
// into a private directory first), its .dockerignore, and the Dockerfile inside it.
import { mkdtemp, readFile, rm, stat, mkdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { entryBody, normalizeMember, TarIndexer, type TarIndex } from './tar-digest.js';
import { runProgram } from '../../sys/exec.js';
import { errnoCode, invalidArgument, notFound } from '../../errors/berth-error.js';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';
import { resolveInRoot } from './root-path.js';

export interface BuildContext {
  /** host directory holding the context */
  readonly root: string;
  readonly ignore: IgnoreMatcher;
  /** remove what the context extracted (nothing for a plain directory) */
  cleanup(): Promise<void>;
  /**
   * The sha256 of a regular file's content when it is already known (hashed while the
   * tarball was read); undefined when the caller must read the file itself.
   */
  knownDigest?(relative: string, size: number, mtimeMs: number): string | undefined;
  /** the tarball's members when it was received in memory (see TarIndex.exact) */
  index?: TarIndex;
  /** make the files exist on disk (a tarball context is extracted on first need) */
  materialize(): Promise<void>;
}

export interface DockerfileSource {
  /** the Dockerfile text */
  content: string;
  /** the name used in messages */
  name: string;
}

/** Contexts up to this size are kept and hashed in memory; bigger ones go to disk first. */
const DIGEST_IN_MEMORY_LIMIT = 512 * 1024 * 1024;

/** A small file of the context: from the in-memory index when exact, else from disk. */
async function readContextFile(context: Pick<BuildContext, 'root' | 'index' | 'materialize'>, name: string): Promise<string> {
  if (context.index) {
    const entry = context.index.entries.get(normalizeMember(name));
    if (entry?.type === 'file') return entryBody(entry)?.toString('utf8') ?? '';
    if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${name}`), { code: 'ENOENT' });
    if (entry.type === 'dir') throw Object.assign(new Error(`EISDIR: ${name}`), { code: 'EISDIR' });
  }
  await context.materialize();
  return await readFile(await resolveInRoot(context.root, name), 'utf8');
}

async function readIgnore(context: Pick<BuildContext, 'root' | 'index' | 'materialize'>, dockerfileName: string): Promise<IgnoreMatcher> {
  // `<Dockerfile>.dockerignore` beside the Dockerfile wins over the context's .dockerignore
  for (const candidate of [`${dockerfileName}.dockerignore`, '.dockerignore']) {
    try {
      const text = await readContextFile(context, candidate);
      return new IgnoreMatcher(parseDockerignore(text));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EISDIR') throw err;
    }
  }
  return new IgnoreMatcher([]);
}

/** Use a host directory as the context as-is. */
export async function openDirectoryContext(dir: string, dockerfileName = 'Dockerfile'): Promise<BuildContext> {
  const info = await stat(dir).catch((cause: unknown) => {
    throw notFound('BUILD_CONTEXT_NOT_FOUND', `build context ${dir} does not exist`, { cause });
  });
  if (!info.isDirectory()) throw invalidArgument('BUILD_CONTEXT_NOT_DIR', `build context ${dir} is not a directory`);
  const root = path.resolve(dir);
  const context: BuildContext = { root, ignore: new IgnoreMatcher([]), cleanup: async () => undefined, materialize: async () => undefined };
  return { ...context, ignore: await readIgnore(context, dockerfileName) };
}

/**
 * Extract a context tarball (plain or compressed) into a private directory with GNU tar,
 * which refuses `..` members and writing through symlinks, strips leading `/`, and is much
 * faster than a JavaScript tar reader on big contexts. A plain tarball is indexed (and its
 * files hashed) while it arrives; when that index is exact, extraction waits until a step
 * really needs the files, so a fully cached build never writes the context to disk.
 */
export async function extractTarContext(input: Readable | Uint8Array, dockerfileName = 'Dockerfile', scratchDir = os.tmpdir(),
  memoryLimit = DIGEST_IN_MEMORY_LIMIT): Promise<BuildContext> {
  await mkdir(scratchDir, { recursive: true });
  const root = await mkdtemp(path.join(scratchDir, 'berth-build-context-'));
  const archive = `${root}.tar`;
  let extraction: Promise<void> | undefined;
  let received: Received | undefined;
  const extract = (): Promise<void> => {
    extraction ??= (async () => {
      const inMemory = received?.chunks;
      // tar cannot tell the compression of a pipe by itself: name it from the magic bytes
      const result = await runProgram('tar', ['-x', ...compressionFlag(received?.head), '-f', inMemory ? '-' : archive, '-C', root, '--no-same-owner'],
        { allowFailure: true, ...(inMemory ? { input: Buffer.concat(inMemory) } : {}) });
      await rm(archive, { force: true });
      if (result.code !== 0) {
        throw invalidArgument('BUILD_CONTEXT_INVALID', `cannot read the build context tarball: ${result.stderr.trim().split('\n').slice(-3).join('; ')}`);
      }
    })();
    return extraction;
  };
  const cleanup = async (): Promise<void> => {
    await extraction?.catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await rm(archive, { force: true });
  };
  try {
    received = await receive(input, archive, memoryLimit);
    const index = received.index;
    if (index && [...index.entries.keys()].some((name) => name === '..' || name.startsWith('../'))) {
      throw invalidArgument('BUILD_CONTEXT_INVALID', 'cannot read the build context tarball: a member name contains ".."');
    }
    // without an exact index the files are needed on disk anyway
    if (!index?.exact) await extract();
    // a digest is trusted only for the same path, size and mtime as the file on disk
    const knownDigest = (relative: string, size: number, mtimeMs: number): string | undefined => {
      const known = index?.entries.get(normalizeMember(relative));
      return known?.digest !== undefined && known.size === size && known.mtimeSeconds === Math.floor(mtimeMs / 1000) ? known.digest : undefined;
    };
    const context: BuildContext = {
      root, ignore: new IgnoreMatcher([]), cleanup, knownDigest, materialize: extract, ...(index?.exact ? { index } : {}),
    };
    return { ...context, ignore: await readIgnore(context, dockerfileName) };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function compressionFlag(bytes: Buffer | undefined): string[] {
  if (!bytes) return [];
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return ['-z'];
  if (bytes.subarray(0, 3).toString('latin1') === 'BZh') return ['-j'];
  if (bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return ['-J'];
  return [];
}

/** The context as received: in memory (with its index when plain) or spilled to a file. */
interface Received {
  /** the body as it arrived, undefined when it went to the spill file */
  chunks: Buffer[] | undefined;
  /** its first bytes, to name the compression */
  head: Buffer;
  /** the members of a plain tarball held in memory */
  index: TarIndex | undefined;
}

/** Enough leading bytes to recognise gzip, bzip2 and xz. */
const MAGIC_BYTES = 6;

/**
 * Take the context in memory when it is small enough (no disk round trip), indexing a plain
 * tarball chunk by chunk as it arrives (the chunks are kept as they are, not copied); a
 * bigger context goes to `spill`.
 */
async function receive(input: Readable | Uint8Array, spill: string, limit: number): Promise<Received> {
  const chunks: Buffer[] = [];
  let size = 0;
  let head: Buffer | undefined;
  let indexer: TarIndexer | undefined;
  const decide = (): void => {
    head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (compressionFlag(head).length > 0) return;
    indexer = new TarIndexer();
    for (const chunk of chunks) indexer.push(chunk);
  };
  const take = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    if (head === undefined) { if (size >= MAGIC_BYTES) decide(); } else indexer?.push(chunk);
  };
  if (!(input instanceof Readable)) {
    if (input.byteLength > limit) {
      await writeFile(spill, input, { mode: 0o600 });
      return { chunks: undefined, head: Buffer.from(input.subarray(0, MAGIC_BYTES)), index: undefined };
    }
    take(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  } else if (!await takeStream(input, take, () => size > limit)) {
    const rest = Readable.from((async function* () { yield* chunks; yield* input; })());
    await pipeline(rest, createWriteStream(spill, { mode: 0o600 }));
    return { chunks: undefined, head: Buffer.concat(chunks).subarray(0, MAGIC_BYTES), index: undefined };
  }
  if (head === undefined) decide();
  return { chunks, head: head ?? Buffer.alloc(0), index: indexer?.finish() };
}

/**
 * Hand every chunk of `input` to `take` until it ends (true) or `full` says to stop (false:
 * the stream is paused, the rest unread).
 */
async function takeStream(input: Readable, take: (chunk: Buffer) => void, full: () => boolean): Promise<boolean> {
  return await new Promise<boolean>((resolve, reject) => {
    const finish = (result: boolean | Error): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', finish);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onEnd = (): void => finish(true);
    const onData = (value: Buffer | string): void => {
      take(typeof value === 'string' ? Buffer.from(value) : value);
      if (full()) { input.pause(); finish(false); }
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', finish);
  });
}

/**
 * Read the Dockerfile named by `-f` (a path inside the context). Docker reads it even when
 * .dockerignore lists it, so berth does too.
 */
export async function readDockerfile(context: BuildContext, name = 'Dockerfile'): Promise<DockerfileSource> {
  const candidates = name === 'Dockerfile' ? ['Dockerfile', 'dockerfile'] : [name];
  for (const candidate of candidates) {
    try {
      const content = await readContextFile(context, candidate);
      if (content.trim() === '') throw invalidArgument('DOCKERFILE_EMPTY', `the dockerfile (${name}) cannot be empty`);
      return { content, name: candidate };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  throw notFound('DOCKERFILE_NOT_FOUND', `cannot find the dockerfile ${name} in the build context`,
    { hint: 'pass -f with the path of the Dockerfile relative to the context' });
}
