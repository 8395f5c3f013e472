// .dockerignore patterns with docker's rules (moby/patternmatcher): Go filepath.Match
// syntax plus `**`, `!` exceptions where the last matching pattern wins, cleaned paths,
// and a pattern that matches a directory also excluding everything below it.
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';

interface Pattern {
  text: string;
  exclusion: boolean;
  regex: RegExp;
}

const REGEX_SPECIAL = new Set(['.', '$', '+', '(', ')', '{', '}', '|', '^']);

function compile(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        out += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        out += '[^/]*';
      }
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) out += '\\\\';
      else { out += next.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'); i++; }
    } else if (ch === '[' || ch === ']') {
      out += ch === '[' && pattern[i + 1] === '^' ? '[^' : ch;
      if (ch === '[' && pattern[i + 1] === '^') i++;
    } else if (REGEX_SPECIAL.has(ch)) {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  try {
    return new RegExp(out + '$', 's');
  } catch (cause) {
    throw invalidArgument('DOCKERIGNORE_PATTERN', `invalid .dockerignore pattern "${pattern}"`, { cause });
  }
}

/** Lines of a .dockerignore file -> patterns (comments and blank lines dropped, paths cleaned). */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    patterns.push(line);
  }
  return patterns;
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[];

  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const line of lines) {
      let text = line.trim();
      const exclusion = text.startsWith('!');
      if (exclusion) text = text.slice(1).trim();
      if (text === '') throw invalidArgument('DOCKERIGNORE_PATTERN', 'illegal exclusion pattern: "!"');
      text = path.posix.normalize(text);
      if (text.length > 1 && text.startsWith('/')) text = text.slice(1);
      if (text.endsWith('/') && text.length > 1) text = text.slice(0, -1);
      if (text === '.' ) continue;
      this.patterns.push({ text, exclusion, regex: compile(text) });
    }
  }

  get isEmpty(): boolean { return this.patterns.length === 0; }

  /** True when the context-relative path (no leading `/`) or one of its parents is ignored. */
  ignores(relative: string): boolean {
    // most contexts have no .dockerignore and most COPYs no --exclude: called per file, so answer at once
    if (this.patterns.length === 0) return false;
    const file = path.posix.normalize(relative).replace(/^\/+/, '');
    if (file === '.' || file === '') return false;
    const parents = file.split('/').slice(0, -1);
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.regex.test(file);
      for (let i = 0; !match && i < parents.length; i++) {
        match = pattern.regex.test(parents.slice(0, i + 1).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /** Whether an ignored directory may still hold re-included files (so a walk must descend). */
  hasExceptionsUnder(dir: string): boolean {
    return this.patterns.some((p) => p.exclusion && (p.text.startsWith(`${dir}/`) || p.text.includes('*')));
  }
}
