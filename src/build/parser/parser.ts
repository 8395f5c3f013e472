// Dockerfile text -> logical lines (moby/buildkit frontend/dockerfile/parser): parser
// directives, comments, continuations with the escape character, heredocs, and the
// split of each line into keyword, `--flags` and the rest. No variable expansion here:
// that happens per instruction at evaluation time, where docker does it.
import { invalidArgument } from '../../errors/berth-error.js';

export interface Heredoc {
  /** the delimiter word, quotes removed */
  name: string;
  /** body including the trailing newline of each line; `<<-` tabs already removed */
  content: string;
  /** false when the delimiter was quoted: the body is taken literally */
  expand: boolean;
  chomp: boolean;
  fileDescriptor: number;
}

export interface DockerfileLine {
  /** lowercase instruction keyword, e.g. `run` */
  keyword: string;
  /** the keyword as written */
  keywordAsWritten: string;
  /** `--name=value` words before the arguments, quotes removed */
  flags: string[];
  /** everything after the keyword and flags, trimmed */
  rest: string;
  /** the whole logical line (continuations joined) as docker reports it */
  original: string;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
}

export interface ParsedDockerfile {
  escape: string;
  syntax: string | undefined;
  lines: DockerfileLine[];
  warnings: string[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]+)$/;
const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);
/** an upper bound on Dockerfile size; a hostile client gets a clear error, not an OOM */
export const MAX_DOCKERFILE_BYTES = 16 * 1024 * 1024;

export function syntaxError(message: string, startLine: number, endLine = startLine, instruction?: string): Error {
  const where = startLine === endLine ? `line ${startLine}` : `lines ${startLine}-${endLine}`;
  return invalidArgument('DOCKERFILE_PARSE', `dockerfile parse error on ${where}${instruction ? ` (${instruction})` : ''}: ${message}`, {
    detail: { startLine, endLine, ...(instruction ? { instruction } : {}) },
  });
}

const isComment = (line: string): boolean => line.trimStart().startsWith('#');

class LineReader {
  private index = 0;
  constructor(private readonly lines: string[]) {}
  get lineNumber(): number { return this.index; }
  next(): string | undefined {
    if (this.index >= this.lines.length) return undefined;
    return this.lines[this.index++];
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

interface Directives { escape: string; syntax: string | undefined; done: boolean; seen: Set<string> }

function readDirective(line: string, d: Directives, lineNumber: number): void {
  if (d.done) return;
  const match = DIRECTIVE.exec(line);
  if (!match) { d.done = true; return; }
  const name = (match[1] ?? '').toLowerCase();
  const value = match[2] ?? '';
  if (!KNOWN_DIRECTIVES.has(name)) return;
  if (d.seen.has(name)) throw syntaxError(`only one ${name} parser directive can be used`, lineNumber);
  d.seen.add(name);
  if (name === 'escape') {
    if (value !== '\\' && value !== '`') throw syntaxError(`invalid escape token '${value}' does not match ` + '` or \\', lineNumber);
    d.escape = value;
  } else if (name === 'syntax') {
    d.syntax = value;
  }
}

function continuationRegExp(escape: string): RegExp {
  return new RegExp(`\\${escape}[ \\t]*$`);
}

/** Parse a whole Dockerfile. Errors name the line and instruction. */
export function parseDockerfile(source: string | Uint8Array): ParsedDockerfile {
  const text = typeof source === 'string' ? source : Buffer.from(source).toString('utf8');
  if (Buffer.byteLength(text) > MAX_DOCKERFILE_BYTES) {
    throw invalidArgument('DOCKERFILE_TOO_LARGE', `dockerfile is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
  }
  const reader = new LineReader(splitLines(text.replace(/^\uFEFF/, '')));
  const directives: Directives = { escape: '\\', syntax: undefined, done: false, seen: new Set() };
  const result: ParsedDockerfile = { escape: '\\', syntax: undefined, lines: [], warnings: [] };
  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    readDirective(raw, directives, reader.lineNumber);
    const continuation = continuationRegExp(directives.escape);
    if (isComment(raw)) continue;
    const startLine = reader.lineNumber;
    let line = raw.trimStart();
    if (line.trim() === '') { directives.done = true; continue; }
    let ended = !continuation.test(line);
    line = line.replace(continuation, '');
    let emptyContinuation = false;
    while (!ended) {
      const next = reader.next();
      if (next === undefined) break;
      if (isComment(next)) continue;
      if (next.trim() === '') { emptyContinuation = true; continue; }
      ended = !continuation.test(next);
      line += next.replace(continuation, '');
    }
    if (emptyContinuation) result.warnings.push(`empty continuation line found in: ${line.trim()}`);
    const parsed = splitInstruction(line, startLine, reader.lineNumber);
    if (HEREDOC_KEYWORDS.has(parsed.keyword) && line.includes('<<')) {
      parsed.heredocs = readHeredocs(parsed, reader);
      parsed.endLine = reader.lineNumber;
    }
    result.lines.push(parsed);
  }
  result.escape = directives.escape;
  result.syntax = directives.syntax;
  return result;
}

function splitInstruction(line: string, startLine: number, endLine: number): DockerfileLine {
  const trimmed = line.trim();
  const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  const keywordAsWritten = match?.[1] ?? '';
  const { rest, flags } = extractFlags(match?.[2] ?? '');
  return {
    keyword: keywordAsWritten.toLowerCase(),
    keywordAsWritten,
    flags,
    rest: rest.trim(),
    original: trimmed,
    heredocs: [],
    startLine,
    endLine,
  };
}

/** Leading `--flag` words (buildkit extractBuilderFlags): quotes and backslashes handled. */
export function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && /\s/.test(line[pos] ?? '')) pos++;
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    let word = '';
    let quote = '';
    let blankOk = false;
    for (; pos < line.length; pos++) {
      let ch = line[pos] ?? '';
      if (quote === '' && /\s/.test(ch)) break;
      if (quote === '' && (ch === '"' || ch === "'")) { quote = ch; blankOk = true; continue; }
      if (quote !== '' && ch === quote) { quote = ''; continue; }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        ch = line[++pos] ?? '';
      }
      word += ch;
    }
    if (word === '--') return { rest: line.slice(pos), flags };
    if (blankOk || word.length > 0) flags.push(word);
  }
}

/** Raw words of a line, quotes kept (buildkit parseWords), used to find heredoc markers. */
export function splitWordsKeepingQuotes(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (let pos = 0; pos < rest.length; pos++) {
    let ch = rest[pos] ?? '';
    if (quote === '') {
      if (/\s/.test(ch)) {
        if (inWord) words.push(word);
        word = '';
        inWord = false;
        continue;
      }
      inWord = true;
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === escape) {
        if (pos + 1 === rest.length) continue;
        word += ch;
        ch = rest[++pos] ?? '';
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escape && quote !== "'") {
      if (pos + 1 === rest.length) continue;
      word += ch;
      ch = rest[++pos] ?? '';
    }
    word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

export interface HeredocMarker { name: string; expand: boolean; chomp: boolean; fileDescriptor: number }

/** `<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`: the marker of one word, or undefined. */
export function parseHeredocMarker(word: string): HeredocMarker | undefined {
  const match = HEREDOC_WORD.exec(word);
  if (!match) return undefined;
  const rawName = match[3] ?? '';
  const name = rawName.replace(/["']/g, '');
  if (name === '' || /\s/.test(name)) return undefined;
  return { name, expand: name === rawName, chomp: match[2] === '-', fileDescriptor: Number(match[1] || '0') };
}

function readHeredocs(line: DockerfileLine, reader: LineReader): Heredoc[] {
  const heredocs: Heredoc[] = [];
  for (const word of splitWordsKeepingQuotes(line.rest, '\\')) {
    const marker = parseHeredocMarker(word);
    if (!marker) continue;
    let content = '';
    let terminated = false;
    for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
      const candidate = marker.chomp ? raw.replace(/^\t+/, '') : raw;
      if (candidate === marker.name) { terminated = true; break; }
      content += candidate + '\n';
    }
    if (!terminated) throw syntaxError(`unterminated heredoc ${marker.name}`, line.startLine, reader.lineNumber, line.keywordAsWritten.toUpperCase());
    heredocs.push({ ...marker, content });
  }
  return heredocs;
}
