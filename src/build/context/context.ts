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
import { SlabBuffer, SlabPool } from './slab-pool.js';

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

export interface TarContextOptions {
  /** bigger bodies go to a file instead of memory (default 512 MiB) */
  memoryLimit?: number;
  /** where in-memory bodies are copied (a daemon keeps one pool for all its builds) */
  slabs?: SlabPool;
}

/** The files the context itself reads (readDockerfile, readIgnore): the index keeps their bytes. */
function contextFileNames(dockerfileName: string): Set<string> {
  const names = [dockerfileName, `${dockerfileName}.dockerignore`, '.dockerignore', ...(dockerfileName === 'Dockerfile' ? ['dockerfile'] : [])];
  return new Set(names.map(normalizeMember));
}

/** A small file of the context: from the in-memory index when exact, else from disk. */
async function readContextFile(context: Pick<BuildContext, 'root' | 'index' | 'materialize'>, name: string): Promise<string> {
  if (context.index) {
    const entry = context.index.entries.get(normalizeMember(name));
    const body = entry?.type === 'file' ? entryBody(entry) : undefined;
    if (body !== undefined) return body.toString('utf8');
    if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${name}`), { code: 'ENOENT' });
    if (entry.type === 'dir') throw Object.assign(new Error(`EISDIR: ${name}`), { code: 'EISDIR' });
    // a file whose bytes the index did not keep: read from disk
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
  options: TarContextOptions = {}): Promise<BuildContext> {
  await mkdir(scratchDir, { recursive: true });
  const root = await mkdtemp(path.join(scratchDir, 'berth-build-context-'));
  const archive = `${root}.tar`;
  let extraction: Promise<void> | undefined;
  let received: Received | undefined;
  const extract = (): Promise<void> => {
    extraction ??= (async () => {
      const inMemory = received?.body;
      // tar cannot tell the compression of a pipe by itself: name it from the magic bytes
      const input = inMemory ? Buffer.concat(inMemory.views(), inMemory.length) : undefined;
      // the copy is tar's input now: the slabs can serve the next build
      inMemory?.release();
      const result = await runProgram('tar', ['-x', ...compressionFlag(received?.head), '-f', input ? '-' : archive, '-C', root, '--no-same-owner'],
        { allowFailure: true, ...(input ? { input } : {}) });
      await rm(archive, { force: true });
      if (result.code !== 0) {
        throw invalidArgument('BUILD_CONTEXT_INVALID', `cannot read the build context tarball: ${result.stderr.trim().split('\n').slice(-3).join('; ')}`);
      }
    })();
    return extraction;
  };
  const cleanup = async (): Promise<void> => {
    await extraction?.catch(() => undefined);
    received?.body?.release();
    await rm(root, { recursive: true, force: true });
    await rm(archive, { force: true });
  };
  try {
    const keep = contextFileNames(dockerfileName);
    received = await receive(input, archive, {
      limit: options.memoryLimit ?? DIGEST_IN_MEMORY_LIMIT, slabs: options.slabs ?? new SlabPool(0, 0), keepBody: (name) => keep.has(name),
    });
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
  body: SlabBuffer | undefined;
  /** its first bytes, to name the compression */
  head: Buffer;
  /** the members of a plain tarball held in memory */
  index: TarIndex | undefined;
}

/** Enough leading bytes to recognise gzip, bzip2 and xz. */
const MAGIC_BYTES = 6;

interface ReceiveOptions {
  limit: number;
  slabs: SlabPool;
  keepBody: (name: string) => boolean;
}

/**
 * Take the context in memory when it is small enough (no disk round trip), copied into
 * pooled slabs, indexing a plain tarball chunk by chunk as it arrives; a bigger context
 * goes to `spill`.
 */
async function receive(input: Readable | Uint8Array, spill: string, options: ReceiveOptions): Promise<Received> {
  const body = new SlabBuffer(options.slabs);
  /** the chunks before the compression is known (usually just the first) */
  const early: Buffer[] = [];
  let head: Buffer | undefined;
  let indexer: TarIndexer | undefined;
  const decide = (): void => {
    head = early.length === 1 ? early[0] : Buffer.concat(early);
    if (compressionFlag(head).length === 0) {
      indexer = new TarIndexer(options.keepBody);
      for (const chunk of early) indexer.push(chunk);
    }
    early.length = 0;
  };
  const take = (chunk: Buffer): void => {
    body.append(chunk);
    if (head !== undefined) { indexer?.push(chunk); return; }
    early.push(chunk);
    if (body.length >= MAGIC_BYTES) decide();
  };
  try {
    if (!(input instanceof Readable)) {
      if (input.byteLength > options.limit) {
        await writeFile(spill, input, { mode: 0o600 });
        body.release();
        return { body: undefined, head: Buffer.from(input.subarray(0, MAGIC_BYTES)), index: undefined };
      }
      take(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    } else if (!await takeStream(input, take, () => body.length > options.limit)) {
      const received = body.views();
      const rest = Readable.from((async function* () { yield* received; yield* input; })());
      await pipeline(rest, createWriteStream(spill, { mode: 0o600 }));
      const first = Buffer.from(received[0]?.subarray(0, MAGIC_BYTES) ?? Buffer.alloc(0));
      body.release();
      return { body: undefined, head: first, index: undefined };
    }
  } catch (err) {
    body.release();
    throw err;
  }
  if (head === undefined) decide();
  return { body, head: head ?? Buffer.alloc(0), index: indexer?.finish() };
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
