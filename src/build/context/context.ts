// The build context: a directory on the host (a tarball, also from stdin, is extracted
// into a private directory first), its .dockerignore, and the Dockerfile inside it.
import { mkdtemp, readFile, rm, stat, mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { errnoCode, invalidArgument, notFound } from '../../errors/berth-error.js';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';
import { resolveInRoot } from './root-path.js';

export interface BuildContext {
  /** host directory holding the context */
  readonly root: string;
  readonly ignore: IgnoreMatcher;
  /** remove what the context extracted (nothing for a plain directory) */
  cleanup(): Promise<void>;
}

export interface DockerfileSource {
  /** the Dockerfile text */
  content: string;
  /** the name used in messages */
  name: string;
}

/** A limit on an extracted context, against hostile tarballs. */
export const MAX_CONTEXT_ENTRIES = 1_000_000;

async function readIgnore(root: string, dockerfileName: string): Promise<IgnoreMatcher> {
  // `<Dockerfile>.dockerignore` beside the Dockerfile wins over the context's .dockerignore
  for (const candidate of [`${dockerfileName}.dockerignore`, '.dockerignore']) {
    try {
      const text = await readFile(await resolveInRoot(root, candidate), 'utf8');
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
  return { root, ignore: await readIgnore(root, dockerfileName), cleanup: async () => undefined };
}

/**
 * Extract a context tarball (plain or gzip) into a private directory. node-tar strips `..`
 * and absolute paths and refuses to write through symlinks, so nothing lands outside.
 */
export async function extractTarContext(input: Readable | Uint8Array, dockerfileName = 'Dockerfile', scratchDir = os.tmpdir()): Promise<BuildContext> {
  await mkdir(scratchDir, { recursive: true });
  const root = await mkdtemp(path.join(scratchDir, 'berth-build-context-'));
  const cleanup = async (): Promise<void> => { await rm(root, { recursive: true, force: true }); };
  try {
    let entries = 0;
    const source = input instanceof Readable ? input : Readable.from([Buffer.from(input)]);
    await pipeline(source, tar.x({
      cwd: root,
      preservePaths: false,
      preserveOwner: false,
      strict: true,
      filter: () => ++entries <= MAX_CONTEXT_ENTRIES,
    }));
    if (entries > MAX_CONTEXT_ENTRIES) throw invalidArgument('BUILD_CONTEXT_TOO_LARGE', `build context has more than ${MAX_CONTEXT_ENTRIES} entries`);
    return { root, ignore: await readIgnore(root, dockerfileName), cleanup };
  } catch (err) {
    await cleanup();
    if (err instanceof Error && !('kind' in err)) {
      throw invalidArgument('BUILD_CONTEXT_INVALID', `cannot read the build context tarball: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * Read the Dockerfile named by `-f` (a path inside the context). Docker reads it even when
 * .dockerignore lists it, so berth does too.
 */
export async function readDockerfile(context: BuildContext, name = 'Dockerfile'): Promise<DockerfileSource> {
  const candidates = name === 'Dockerfile' ? ['Dockerfile', 'dockerfile'] : [name];
  for (const candidate of candidates) {
    try {
      const content = await readFile(await resolveInRoot(context.root, candidate), 'utf8');
      if (content.trim() === '') throw invalidArgument('DOCKERFILE_EMPTY', `the dockerfile (${name}) cannot be empty`);
      return { content, name: candidate };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  throw notFound('DOCKERFILE_NOT_FOUND', `cannot find the dockerfile ${name} in the build context`,
    { hint: 'pass -f with the path of the Dockerfile relative to the context' });
}
