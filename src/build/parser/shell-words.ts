// Docker's word processing for Dockerfile arguments (moby/buildkit shell/lex.go): quotes,
// the escape character, and $VAR / ${VAR} / ${VAR:-w} / ${VAR-w} / ${VAR:+w} / ${VAR+w} /
// ${VAR:?msg} / ${VAR?msg} / ${VAR#p} / ${VAR%p}. Used on the instructions docker expands
// (ENV, LABEL, ADD, COPY, WORKDIR, EXPOSE, VOLUME, USER, STOPSIGNAL, ARG, FROM, flags).
import { invalidArgument } from '../../errors/berth-error.js';

/** Variables visible to an instruction, last definition wins. */
export type VariableLookup = (name: string) => string | undefined;

export function lookupIn(vars: ReadonlyMap<string, string> | Record<string, string>): VariableLookup {
  if (vars instanceof Map) return (name) => vars.get(name);
  const record = vars as Record<string, string>;
  return (name) => (Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined);
}

interface Fragment {
  text: string;
  /** text from an unquoted expansion is split into words by ProcessWords */
  splittable: boolean;
}

const EOF = '';

class WordScanner {
  private pos = 0;
  /** names of the variables the text referenced (for the cache's "which arg changed") */
  readonly used = new Set<string>();

  constructor(
    private readonly src: string,
    private readonly escape: string,
    private readonly lookup: VariableLookup,
    /** heredoc bodies: quotes are plain characters, the escape only protects `$` and itself */
    private readonly rawQuotes = false,
  ) {}

  private peek(): string { return this.src[this.pos] ?? EOF; }
  private next(): string { return this.src[this.pos++] ?? EOF; }

  /** Scan until `stop` (not consumed when at top level); returns fragments and whether words were separated. */
  scan(stop: string, splitWords: boolean): Fragment[][] {
    const words: Fragment[][] = [];
    let current: Fragment[] = [];
    let inWord = false;
    const push = (text: string, splittable: boolean): void => {
      current.push({ text, splittable });
      inWord = true;
    };
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) {
        if (stop !== EOF) throw invalidArgument('BUILD_SUBSTITUTION', `missing '${stop}' in substitution: ${this.src}`);
        break;
      }
      if (ch === stop) break;
      if (splitWords && /\s/.test(ch)) {
        this.next();
        if (inWord) { words.push(current); current = []; inWord = false; }
        continue;
      }
      this.next();
      if (this.rawQuotes && ch === this.escape) {
        const following = this.peek();
        if (following === '$' || following === this.escape) push(this.next(), false);
        else push(ch, false);
      } else if (this.rawQuotes && (ch === "'" || ch === '"')) {
        push(ch, false);
      } else if (ch === this.escape) {
        const escaped = this.next();
        if (escaped !== EOF) push(escaped, false);
      } else if (ch === "'") {
        push(this.singleQuoted(), false);
      } else if (ch === '"') {
        push(this.doubleQuoted(), false);
      } else if (ch === '$') {
        push(this.dollar(), true);
      } else {
        push(ch, false);
      }
    }
    if (inWord || !splitWords) words.push(current);
    return words;
  }

  private singleQuoted(): string {
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw invalidArgument('BUILD_QUOTE', `unexpected end of statement while looking for matching single-quote: ${this.src}`);
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw invalidArgument('BUILD_QUOTE', `unexpected end of statement while looking for matching double-quote: ${this.src}`);
      if (ch === '"') return out;
      if (ch === '$') { out += this.dollar(); continue; }
      if (ch === this.escape) {
        const following = this.peek();
        if (following === '"' || following === '$' || following === this.escape) { out += this.next(); continue; }
      }
      out += ch;
    }
  }

  private name(): string {
    let name = '';
    const first = this.peek();
    if (/[0-9]/.test(first)) return this.next();
    while (/[A-Za-z0-9_]/.test(this.peek())) name += this.next();
    return name;
  }

  private dollar(): string {
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return this.value(name) ?? '';
    }
    this.next();
    const name = this.name();
    if (name === '') throw invalidArgument('BUILD_SUBSTITUTION', `bad substitution (missing variable name) in: ${this.src}`);
    const op = this.next();
    if (op === '}') return this.value(name) ?? '';
    if (op === ':') {
      const modifier = this.next();
      return this.modified(name, modifier, true);
    }
    if (op === '-' || op === '+' || op === '?' || op === '#' || op === '%') return this.modified(name, op, false);
    if (op === EOF) throw invalidArgument('BUILD_SUBSTITUTION', `missing '}' in substitution: ${this.src}`);
    throw invalidArgument('BUILD_SUBSTITUTION', `unsupported modifier (${op}) in substitution: ${this.src}`);
  }

  private modified(name: string, modifier: string, colon: boolean): string {
    let longest = false;
    if ((modifier === '#' || modifier === '%') && this.peek() === modifier) { this.next(); longest = true; }
    const word = this.scan('}', false)[0]?.map((f) => f.text).join('') ?? '';
    this.next(); // the closing brace
    const value = this.value(name);
    const set = value !== undefined && (!colon || value !== '');
    switch (modifier) {
      case '-': return set ? value : word;
      case '+': return set ? word : '';
      case '?':
        if (!set) throw invalidArgument('BUILD_SUBSTITUTION', `${name}: ${word === '' ? 'is not allowed to be unset' : word}`);
        return value;
      case '#': return value === undefined ? '' : trimPattern(value, word, 'prefix', longest);
      case '%': return value === undefined ? '' : trimPattern(value, word, 'suffix', longest);
      default:
        throw invalidArgument('BUILD_SUBSTITUTION', `unsupported modifier (${modifier}) in substitution: ${this.src}`);
    }
  }

  private value(name: string): string | undefined {
    this.used.add(name);
    return this.lookup(name);
  }
}

function globToRegExp(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return out;
}

function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', longest: boolean): string {
  const body = globToRegExp(pattern);
  const lazy = longest ? '' : '?';
  if (side === 'prefix') {
    const match = new RegExp(`^(${body.replace(/\.\*/g, `.*${lazy}`)})`, 's').exec(value);
    return match ? value.slice(match[1]?.length ?? 0) : value;
  }
  // shortest suffix: try from the end; longest: from the start
  const candidates = [...Array(value.length + 1).keys()];
  if (!longest) candidates.reverse();
  const whole = new RegExp(`^${body}$`, 's');
  for (const i of candidates) if (whole.test(value.slice(i))) return value.slice(0, i);
  return value;
}

export interface ProcessResult<T> {
  value: T;
  used: Set<string>;
}

/** One word: quotes removed, variables expanded, whitespace kept (ENV, LABEL, COPY, ...). */
export function processWord(text: string, lookup: VariableLookup, escape = '\\'): string {
  return processWordTracked(text, lookup, escape).value;
}

export function processWordTracked(text: string, lookup: VariableLookup, escape = '\\'): ProcessResult<string> {
  const scanner = new WordScanner(text, escape, lookup);
  const words = scanner.scan(EOF, false);
  return { value: (words[0] ?? []).map((f) => f.text).join(''), used: scanner.used };
}

/** Several words: split on unquoted whitespace, also inside unquoted expansions (EXPOSE). */
export function processWords(text: string, lookup: VariableLookup, escape = '\\'): string[] {
  const scanner = new WordScanner(text, escape, lookup);
  const result: string[] = [];
  for (const word of scanner.scan(EOF, true)) {
    const current: string[] = [''];
    for (const fragment of word) {
      if (!fragment.splittable) { current[current.length - 1] += fragment.text; continue; }
      const parts = fragment.text.split(/\s+/);
      current[current.length - 1] += parts[0] ?? '';
      for (const part of parts.slice(1)) current.push(part);
    }
    const onlyQuoted = word.every((f) => !f.splittable);
    result.push(...(onlyQuoted ? current : current.filter((w) => w !== '')));
  }
  return result;
}

/** Expand variables in a heredoc body (`COPY <<EOF` with an unquoted delimiter): quotes stay. */
export function expandHeredoc(text: string, lookup: VariableLookup, escape = '\\'): string {
  const scanner = new WordScanner(text, escape, lookup, true);
  return (scanner.scan(EOF, false)[0] ?? []).map((f) => f.text).join('');
}
