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
