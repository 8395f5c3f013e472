// Remote build contexts, as `docker build URL` and the API's `remote=` take them: a git
// repository (`https://host/repo.git#ref:dir`, `git@host:repo.git`, `git://…`) cloned with
// git, or an HTTP(S) URL whose body is a context tarball (plain or compressed) or a plain
// Dockerfile. The downloaded or cloned tree is removed by the context's cleanup().
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError, invalidArgument, notFound } from '../../errors/berth-error.js';
import { runProgram } from '../../sys/exec.js';
import { extractTarContext, openDirectoryContext, type BuildContext } from './context.js';
import { resolveInRoot } from './root-path.js';

/** A remote context (tarball or Dockerfile) bigger than this is refused. */
export const MAX_REMOTE_CONTEXT_BYTES = 512 * 1024 * 1024;
const GIT_TIMEOUT_MS = 10 * 60 * 1000;

/** docker's urlutil.IsGitURL: git transports, and http(s) URLs whose path ends in .git. */
export function isGitUrl(text: string): boolean {
  if (/^(git:\/\/|git@|github\.com\/)/.test(text)) return true;
  return /^https?:\/\/[^#]*\.git(#.*)?$/.test(text);
}

export function isHttpUrl(text: string): boolean {
  return /^https?:\/\/./.test(text);
}

/** `repo#ref:dir` split as docker does; the ref defaults to the remote's HEAD. */
export function parseGitUrl(url: string): { repository: string; ref: string; subdir: string } {
  const hash = url.indexOf('#');
  const repository = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || 'HEAD';
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  const withScheme = repository.startsWith('github.com/') ? `https://${repository}` : repository;
  if (withScheme.startsWith('-') || ref.startsWith('-') || /\s/.test(withScheme)) {
    throw invalidArgument('BUILD_BAD_GIT_URL', `invalid git url ${url}`);
  }
  return { repository: withScheme, ref, subdir };
}

const GIT_ENV = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: os.tmpdir(), GIT_TERMINAL_PROMPT: '0',
  // only real transports: no ext:: or file:// tricks from a stranger's URL
  GIT_ALLOW_PROTOCOL: 'http:https:git:ssh', GIT_CONFIG_NOSYSTEM: '1',
};

async function git(args: string[], cwd: string, allowFailure = false): Promise<{ code: number; stderr: string }> {
  const result = await runProgram('git', args, { cwd, env: GIT_ENV, allowFailure: true, timeoutMs: GIT_TIMEOUT_MS });
  if (result.code !== 0 && !allowFailure) {
    throw invalidArgument('BUILD_GIT_FAILED', `git ${args[0] ?? ''} failed: ${result.stderr.trim().split('\n').slice(-2).join('; ')}`);
  }
  return result;
}

/** Fetch `ref` as cheaply as the server allows; returns what to check out. */
async function fetchRef(clone: string, ref: string): Promise<string> {
  if ((await git(['fetch', '-q', '--depth', '1', 'origin', ref], clone, true)).code === 0) return 'FETCH_HEAD';
  // dumb HTTP cannot fetch shallowly; a commit id is not a ref a server hands out by name
  if ((await git(['fetch', '-q', 'origin', ref], clone, true)).code === 0) return 'FETCH_HEAD';
  await git(['fetch', '-q', '--tags', 'origin'], clone);
  return ref;
}

/** Clone `url` (one commit when the server allows) and open its `dir` as the context. */
export async function openGitContext(url: string, dockerfileName: string, scratchDir: string): Promise<BuildContext> {
  const { repository, ref, subdir } = parseGitUrl(url);
  await mkdir(scratchDir, { recursive: true });
  const clone = await mkdtemp(path.join(scratchDir, 'berth-build-git-'));
  try {
    await git(['init', '-q'], clone);
    await git(['remote', 'add', 'origin', repository], clone);
    await git(['checkout', '-q', await fetchRef(clone, ref), '--'], clone);
    await git(['submodule', 'update', '-q', '--init', '--recursive'], clone, true);
    const dir = await resolveInRoot(clone, subdir);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw notFound('BUILD_GIT_SUBDIR', `${subdir} is not a directory in git repository ${repository}`);
    const context = await openDirectoryContext(dir, dockerfileName);
    return { ...context, cleanup: async () => { await rm(clone, { recursive: true, force: true }); } };
  } catch (err) {
    await rm(clone, { recursive: true, force: true });
    throw err;
  }
}

function isArchive(bytes: Buffer): boolean {
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const bzip2 = bytes.subarray(0, 3).toString('latin1') === 'BZh';
  const xz = bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  const tar = bytes.length >= 512 && bytes.subarray(257, 262).toString('latin1') === 'ustar';
  return gzip || bzip2 || xz || tar;
}

async function download(url: string, fetchImpl: typeof fetch): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: 'follow' });
  } catch (cause) {
    throw new BerthError('unavailable', 'BUILD_REMOTE_FAILED', `cannot download the build context from ${url}: ${(cause as Error).message}`, { cause });
  }
  if (!response.ok || !response.body) {
    throw invalidArgument('BUILD_REMOTE_FAILED', `cannot download the build context from ${url}: status ${response.status}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Uint8Array).byteLength;
    if (size > MAX_REMOTE_CONTEXT_BYTES) throw invalidArgument('BUILD_REMOTE_TOO_BIG', `the build context at ${url} is bigger than ${MAX_REMOTE_CONTEXT_BYTES} bytes`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/**
 * An HTTP(S) context: a tarball is the context; anything else must be text and becomes the
 * Dockerfile of an otherwise empty context (docker names it Dockerfile whatever -f says).
 */
export async function openUrlContext(url: string, dockerfileName: string, scratchDir: string, fetchImpl: typeof fetch = fetch): Promise<{ context: BuildContext; dockerfile: string }> {
  const body = await download(url, fetchImpl);
  if (isArchive(body)) return { context: await extractTarContext(body, dockerfileName, scratchDir), dockerfile: dockerfileName };
  const text = body.toString('utf8');
  if (text.includes('\uFFFD') || text.includes('\0')) {
    throw invalidArgument('BUILD_REMOTE_NOT_CONTEXT', `the build context at ${url} is neither a tarball nor a text Dockerfile`);
  }
  await mkdir(scratchDir, { recursive: true });
  const dir = await mkdtemp(path.join(scratchDir, 'berth-build-remote-'));
  try {
    await writeFile(path.join(dir, 'Dockerfile'), text);
    const context = await openDirectoryContext(dir, 'Dockerfile');
    return { context: { ...context, cleanup: async () => { await rm(dir, { recursive: true, force: true }); } }, dockerfile: 'Dockerfile' };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The context named by `remote=`: a git repository or an HTTP(S) URL. */
export async function openRemoteContext(remote: string, dockerfileName: string, scratchDir: string, fetchImpl: typeof fetch = fetch): Promise<{ context: BuildContext; dockerfile: string }> {
  if (isGitUrl(remote)) return { context: await openGitContext(remote, dockerfileName, scratchDir), dockerfile: dockerfileName };
  if (isHttpUrl(remote)) return await openUrlContext(remote, dockerfileName, scratchDir, fetchImpl);
  throw invalidArgument('BUILD_BAD_REMOTE', `remote context ${remote} is neither a git repository nor an http(s) url`);
}
