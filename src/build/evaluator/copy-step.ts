// COPY and ADD: plan first (resolve and checksum the sources, so the cache can decide),
// then apply into a writable root. History text as the classic builder writes it:
// `COPY file:<sha> in /dest `, `dir:`, or `multi:` for several sources.
import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { errnoCode, invalidArgument } from '../../errors/berth-error.js';
import type { Instruction } from '../parser/instructions.js';
import { parseHeredocMarker } from '../parser/parser.js';
import { expandHeredoc } from '../parser/shell-words.js';
import { IgnoreMatcher } from '../context/dockerignore.js';
import { resolveInRoot } from '../context/root-path.js';
import { checksumTree, copyEntry, mkdirInRoot } from './file-copy.js';
import { parseChmod, resolveOwner } from './ownership.js';
import { archiveKind, cleanSourcePath, downloadSource, heredocSource, isRemoteUrl, matchSources, type ArchiveKind, type SourceItem } from './sources.js';
import { checksumFromIndex, type TarIndex } from '../context/tar-digest.js';
import { extractArchive } from './archive.js';
import { stageLookup, type Expander, type StageState } from './stage-state.js';

type CopyInstruction = Extract<Instruction, { kind: 'copy' | 'add' }>;

/** A root that COPY reads from: the context, or another stage's / image's filesystem. */
export interface SourceRoot {
  root: string;
  ignore: IgnoreMatcher | undefined;
  /** content digests known without reading (context files hashed on arrival) */
  knownDigest?: (relative: string, size: number, mtimeMs: number) => string | undefined;
  /** an exact index of the root's files: sources are planned without touching the disk */
  index?: TarIndex;
  /** make the files exist on disk before they are read */
  materialize?: () => Promise<void>;
  release(): Promise<void>;
}

export interface CopyEnvironment {
  context: SourceRoot;
  /** `--from=<stage|image>` -> its root (read-only use) */
  openFrom(name: string): Promise<SourceRoot>;
  fetch: typeof fetch;
  proxyArgs: ReadonlyMap<string, string>;
}

export interface CopyPlan {
  comment: string;
  /** file -> checksum, for explaining cache misses */
  inputs: Map<string, string>;
  apply(root: string): Promise<void>;
  cleanup(): Promise<void>;
}

interface PlannedSource extends SourceItem {
  hash: string;
  archive: ArchiveKind | undefined;
  /** ignored paths below a directory source */
  skip?: (relative: string) => boolean;
}

function hashOf(prefix: string, text: string): string {
  return `${prefix}:${createHash('sha256').update(text).digest('hex')}`;
}

async function planSources(i: CopyInstruction, sources: string[], checksum: string | undefined, env: CopyEnvironment,
  from: SourceRoot, state: StageState, cleanups: Array<() => Promise<void>>, inputs: Map<string, string>): Promise<PlannedSource[]> {
  const what = `${i.kind.toUpperCase()} (line ${i.line.startLine})`;
  const excludes = new IgnoreMatcher(i.excludes);
  const skip = (rel: string): boolean => (from.ignore?.ignores(rel) ?? false) || excludes.ignores(rel);
  const planned: PlannedSource[] = [];
  for (const source of sources) {
    const marker = parseHeredocMarker(source);
    const heredoc = marker && i.heredocs.find((h) => h.name === marker.name);
    if (heredoc) {
      const body = heredoc.expand ? expandHeredoc(heredoc.content, stageLookup(state, env.proxyArgs), state.escape) : heredoc.content;
      const item = await heredocSource(heredoc.name, body);
      cleanups.push(item.cleanup);
      const hash = hashOf('file', body);
      inputs.set(`<<${heredoc.name}`, hash);
      planned.push({ ...item, hash, archive: undefined });
      continue;
    }
    if (isRemoteUrl(source)) {
      if (i.kind === 'copy') throw invalidArgument('BUILD_COPY_URL', `${what}: source can't be a URL for COPY`);
      const item = await downloadSource(source, env.fetch, checksum, what);
      cleanups.push(item.cleanup);
      inputs.set(source, item.sha256);
      planned.push({ ...item, hash: `file:${item.sha256}`, archive: i.unpack === true ? await archiveKind(item.hostPath) : undefined });
      continue;
    }
    if (checksum !== undefined) throw invalidArgument('BUILD_CHECKSUM_LOCAL', `${what}: --checksum can only be used with a URL source`);
    const indexed = i.kind === 'copy' && from.index && !WILDCARD.test(source) ? planFromIndex(from.index, source, skip, inputs) : undefined;
    if (indexed) { planned.push(indexed); continue; }
    await from.materialize?.();
    for (const item of await matchSources(from.root, source, skip, what)) {
      const files = new Map<string, string>();
      const known = from.knownDigest;
      // only a file reached without symlinks is the tar member of the same name
      const lookup = known && { lookup: (host: string, rel: string, info: Stats) => (host === path.join(from.root, rel) ? known(rel, info.size, info.mtimeMs) : undefined) };
      const digest = await checksumTree(item.hostPath, item.relative, skip, files, lookup);
      for (const [file, sum] of files) inputs.set(file, sum);
      const archive = i.kind === 'add' && i.unpack !== false && !item.isDir ? await archiveKind(item.hostPath) : undefined;
      planned.push({ ...item, hash: `${item.isDir ? 'dir' : 'file'}:${digest}`, archive, skip });
    }
  }
  return planned;
}

const WILDCARD = /[*?[]/;

/** A literal COPY source straight from the context's index; undefined sends it to the disk path. */
function planFromIndex(index: TarIndex, source: string, skip: (rel: string) => boolean, inputs: Map<string, string>): PlannedSource | undefined {
  const cleaned = cleanSourcePath(source);
  const relative = cleaned === '.' ? '' : cleaned;
  if (relative !== '' && skip(relative)) return undefined;
  const files = new Map<string, string>();
  const sum = checksumFromIndex(index, relative, skip, files);
  if (!sum) return undefined;
  for (const [file, digest] of files) inputs.set(file, digest);
  // hostPath is resolved once the context is on disk (only when the step really runs)
  return { hostPath: '', relative, isDir: sum.isDir, hash: `${sum.isDir ? 'dir' : 'file'}:${sum.digest}`, archive: undefined, skip };
}

/** Resolve the sources and compute the step's history text; nothing is written yet. */
export async function planCopy(i: CopyInstruction, state: StageState, expand: Expander, env: CopyEnvironment): Promise<CopyPlan> {
  const what = `${i.kind.toUpperCase()} (line ${i.line.startLine})`;
  const sources = i.sources.map((s) => (parseHeredocMarker(s) ? s : expand.word(s)));
  const dest = expand.word(i.dest);
  const chown = expand.optional(i.chown);
  const chmod = expand.optional(i.chmod);
  const fromName = expand.optional(i.from);
  const checksum = expand.optional(i.checksum);
  const mode = chmod === undefined ? undefined : parseChmod(chmod);
  const from = fromName === undefined ? env.context : await env.openFrom(fromName);
  const cleanups: Array<() => Promise<void>> = [];
  if (fromName !== undefined) cleanups.push(() => from.release());
  const cleanup = async (): Promise<void> => { for (const c of cleanups.splice(0).reverse()) await c(); };
  try {
    const inputs = new Map<string, string>();
    const planned = await planSources(i, sources, checksum, env, from, state, cleanups, inputs);
    if (planned.length > 1 && !dest.endsWith('/')) {
      throw invalidArgument('BUILD_COPY_DEST', `${what}: when using ${i.kind.toUpperCase()} with more than one source file, the destination must be a directory and end with a /`);
    }
    const srcHash = planned.length === 1 ? planned[0]?.hash ?? '' : hashOf('multi', planned.map((p) => p.hash).join(','));
    const chownComment = chown === undefined ? '' : `--chown=${chown}`;
    // exactly the classic builder's text: no --from, and no space after --chown (sic)
    const comment = `${i.kind.toUpperCase()} ${chownComment}${srcHash} in ${dest} `;
    const workdir = state.image.config?.WorkingDir || '/';
    const destination = path.posix.isAbsolute(dest) ? dest : path.posix.join(workdir, dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
    const apply = async (root: string): Promise<void> => {
      await from.materialize?.();
      for (const item of planned) if (item.hostPath === '') item.hostPath = await resolveInRoot(from.root, item.relative);
      const owner = chown === undefined ? { uid: 0, gid: 0 } : await resolveOwner(root, chown);
      for (const item of planned) await applyOne(root, item, destination, { chown: chown !== undefined, owner, mode, parents: i.parents, what });
    };
    return { comment, inputs, apply, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

interface ApplyOptions { chown: boolean; owner: { uid: number; gid: number }; mode: number | undefined; parents: boolean; what: string }

async function isDirectoryInRoot(root: string, inside: string): Promise<boolean> {
  try {
    return (await lstat(await resolveInRoot(root, inside))).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}

async function applyOne(root: string, item: PlannedSource, destination: string, o: ApplyOptions): Promise<void> {
  const copyOptions = { owner: o.owner, mode: o.mode, skip: item.skip, keepTimes: true };
  const destIsDir = destination.endsWith('/') || await isDirectoryInRoot(root, destination);
  if (item.archive !== undefined) {
    const target = await mkdirInRoot(root, destination, o.owner);
    await extractArchive(item.hostPath, item.archive, target, o.what, o.chown ? o.owner : undefined);
    return;
  }
  if (item.isDir) {
    const inside = o.parents && item.relative !== '' ? path.posix.join(destination, item.relative) : destination;
    const target = await mkdirInRoot(root, inside, o.owner);
    await copyEntry(item.hostPath, target, item.relative, copyOptions);
    return;
  }
  const name = item.remote?.name ?? path.posix.basename(item.relative);
  let inside = destIsDir ? path.posix.join(destination, name) : destination;
  if (o.parents) inside = path.posix.join(destination, item.relative);
  await mkdirInRoot(root, path.posix.dirname(inside), o.owner);
  const target = await resolveInRoot(root, inside, false);
  await copyEntry(item.hostPath, target, item.relative, { ...copyOptions, mode: o.mode ?? (item.remote ? 0o600 : undefined) });
}
