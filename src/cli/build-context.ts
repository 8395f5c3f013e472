// The build context as docker sends it: a tar of the directory without what
// .dockerignore excludes (patterns with *, **, ? and ! exceptions, the last match wins).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';

function patternToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '*' && pattern[i + 1] === '*') { re += '.*'; i++; if (pattern[i + 1] === '/') i++; }
    else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // a pattern also excludes everything below a matching directory
  return new RegExp(`^${re}(/.*)?$`);
}

export function ignoreMatcher(dockerignore: string): (relPath: string) => boolean {
  const rules = dockerignore.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const negate = line.startsWith('!');
    const clean = path.posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+/, '').replace(/\/+$/, '');
    return { negate, re: patternToRegExp(clean) };
  });
  return (relPath) => {
    let excluded = false;
    for (const rule of rules) if (rule.re.test(relPath)) excluded = !rule.negate;
    return excluded;
  };
}

export async function contextArchive(dir: string): Promise<Readable> {
  const ignore = ignoreMatcher(await readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => ''));
  const pack = tar.c({
    cwd: dir, portable: true,
    filter: (p) => {
      const rel = path.posix.normalize(p).replace(/^\.\/?/, '');
      return rel === '' || rel === 'Dockerfile' || rel === '.dockerignore' || !ignore(rel);
    },
  }, ['.']);
  return Readable.from(pack);
}

/** docker's urlutil: git transports and http(s) URLs ending in .git are git contexts */
export function isRemoteContext(arg: string): boolean {
  return /^(https?:\/\/|git:\/\/|git@|github\.com\/)/.test(arg);
}

function isArchive(bytes: Buffer): boolean {
  return (bytes[0] === 0x1f && bytes[1] === 0x8b) || bytes.subarray(0, 3).toString('latin1') === 'BZh'
    || bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
    || (bytes.length >= 512 && bytes.subarray(257, 262).toString('latin1') === 'ustar');
}

/** `build -`: stdin is a context tarball (plain or compressed) or a Dockerfile alone. */
export async function stdinContext(stdin: NodeJS.ReadableStream): Promise<Readable> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  const input = Buffer.concat(chunks);
  if (isArchive(input)) return Readable.from([input]);
  const header = new tar.Header({ path: 'Dockerfile', mode: 0o644, size: input.length, type: 'File', mtime: new Date(), uid: 0, gid: 0 });
  const block = Buffer.alloc(512);
  header.encode(block, 0);
  const padding = Buffer.alloc((512 - (input.length % 512)) % 512);
  return Readable.from([Buffer.concat([block, input, padding, Buffer.alloc(1024)])]);
}
