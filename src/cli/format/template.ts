// A subset of Go's text/template, enough for docker's --format: {{.Field.Sub}}, {{.}},
// pipelines with |, {{json .}}, {{join .X ","}}, if/else/range/with/end, $ and string,
// number and bool literals, parenthesised pipelines, {{- trim markers -}}, and the
// functions docker documents plus Go's builtins (index, len, printf, eq, and, or, not...).
import { BerthError, invalidArgument } from '../../errors/berth-error.js';

type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pipe: Pipe; pos: number; src: string }
  | { type: 'if' | 'with'; pipe: Pipe; then: Node[]; otherwise: Node[] }
  | { type: 'range'; pipe: Pipe; body: Node[]; otherwise: Node[] };
type Operand =
  | { kind: 'field'; base: 'dot' | 'var'; path: string[] }
  | { kind: 'literal'; value: unknown }
  | { kind: 'func'; name: string }
  | { kind: 'pipe'; pipe: Pipe };
type Command = Operand[];
type Pipe = Command[];

export type TemplateFunc = (...args: unknown[]) => unknown;

/**
 * Marks docker formatter contexts: their MarshalJSON goes through Go's json.Marshal, which
 * escapes HTML characters; docker's {{json}} of plain daemon data does not.
 */
export const ESCAPES_HTML = Symbol('escapesHtml');

export function goJson(value: unknown): string {
  const text = JSON.stringify(value ?? null) ?? 'null';
  if (typeof value !== 'object' || value === null || !(ESCAPES_HTML in value)) return text;
  return text.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function goString(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (typeof value === 'object') {
    return `map[${Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}:${goString(v)}`).join(' ')}]`;
  }
  return String(value);
}

function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function titleCase(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase());
}

function printf(format: unknown, ...args: unknown[]): string {
  let i = 0;
  return String(format).replace(/%([-+ 0#]*\d*(?:\.\d+)?)?([vsdqtxf%])/g, (_m, _flags: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[i++];
    if (verb === 'q') return JSON.stringify(goString(arg));
    if (verb === 'd') return String(Math.trunc(Number(arg)));
    if (verb === 'f') return Number(arg).toFixed(6);
    if (verb === 'x') return Number(arg).toString(16);
    return goString(arg);
  });
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export const FUNCS: Record<string, TemplateFunc> = {
  json: (v) => goJson(v),
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep)) : goString(list)),
  split: (s, sep) => String(s).split(String(sep)),
  upper: (s) => String(s).toUpperCase(),
  lower: (s) => String(s).toLowerCase(),
  title: (s) => titleCase(String(s)),
  truncate: (s, n) => [...String(s)].slice(0, Number(n)).join(''),
  pad: (s, before, after) => ' '.repeat(Number(before)) + String(s) + ' '.repeat(Number(after)),
  print: (...args) => args.map(goString).join(''),
  println: (...args) => `${args.map(goString).join(' ')}\n`,
  printf: (f, ...args) => printf(f, ...args),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : typeof v === 'object' && v !== null ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce<unknown>((acc, key) => (acc === null || acc === undefined ? undefined : (acc as Record<string, unknown>)[String(key)]), v),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (v) => !truthy(v),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
};

const KEYWORDS = ['if', 'range', 'with', 'else', 'end'] as const;
function keywordOf(words: string): (typeof KEYWORDS)[number] | undefined {
  const first = /^[a-z]+\b/.exec(words)?.[0];
  return KEYWORDS.find((k) => k === first);
}

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  fail(message: string): never {
    throw invalidArgument('INVALID_TEMPLATE', `failed to parse template: template: :1: ${message}`);
  }

  parse(): Node[] {
    const { nodes, end } = this.parseList();
    if (end !== undefined) this.fail(`unexpected {{${end}}}`);
    return nodes;
  }

  private parseList(): { nodes: Node[]; end: 'end' | 'else' | undefined } {
    const nodes: Node[] = [];
    for (;;) {
      const open = this.src.indexOf('{{', this.i);
      if (open < 0) {
        if (this.i < this.src.length) nodes.push({ type: 'text', text: this.src.slice(this.i) });
        this.i = this.src.length;
        return { nodes, end: undefined };
      }
      let text = this.src.slice(this.i, open);
      let start = open + 2;
      if (this.src.startsWith('- ', start) || this.src.startsWith('-\t', start) || this.src.startsWith('-\n', start)) {
        text = text.replace(/\s+$/, '');
        start += 1;
      }
      if (text !== '') nodes.push({ type: 'text', text });
      const close = this.findClose(start);
      let inner = this.src.slice(start, close);
      let after = close + 2;
      if (/\s-$/.test(inner)) {
        inner = inner.slice(0, -1);
        while (after < this.src.length && /\s/.test(this.src[after] ?? '')) after++;
      }
      this.i = after;
      const words = inner.trim();
      const keyword = keywordOf(words);
      if (keyword === 'end' || keyword === 'else') return { nodes, end: keyword };
      if (keyword === undefined) {
        if (words === '') this.fail('missing value for command');
        nodes.push({ type: 'action', pipe: parsePipe(words, this), pos: start, src: words });
        continue;
      }
      nodes.push(this.parseBlock(keyword, words.slice(keyword.length).trim()));
    }
  }

  private parseBlock(keyword: 'if' | 'range' | 'with', rest: string): Node {
    if (rest === '') this.fail(`missing value for ${keyword}`);
    const pipe = parsePipe(rest, this);
    const body = this.parseList();
    if (body.end === undefined) this.fail(`unexpected EOF`);
    let otherwise: Node[] = [];
    if (body.end === 'else') {
      const tail = this.parseList();
      if (tail.end !== 'end') this.fail('expected end; found EOF');
      otherwise = tail.nodes;
    }
    return keyword === 'range' ? { type: 'range', pipe, body: body.nodes, otherwise } : { type: keyword, pipe, then: body.nodes, otherwise };
  }

  private findClose(from: number): number {
    let inString: string | undefined;
    for (let j = from; j < this.src.length; j++) {
      const ch = this.src[j];
      if (inString !== undefined) {
        if (ch === '\\' && inString === '"') j++;
        else if (ch === inString) inString = undefined;
      } else if (ch === '"' || ch === '`') inString = ch;
      else if (ch === '}' && this.src[j + 1] === '}') return j;
    }
    return this.fail('unclosed action');
  }
}

function tokenize(src: string, parser: Parser): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||[^\s()|"`]+)/y;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    tokens.push(m[1] ?? '');
    end = re.lastIndex;
  }
  if (src.slice(end).trim() !== '') parser.fail(`unexpected "${src.slice(end).trim()}" in command`);
  return tokens;
}

function parsePipe(src: string, parser: Parser): Pipe {
  const tokens = tokenize(src, parser);
  let pos = 0;
  const pipe = (): Pipe => {
    const commands: Pipe = [[]];
    while (pos < tokens.length) {
      const tok = tokens[pos++] ?? '';
      const current = commands[commands.length - 1] ?? [];
      if (tok === ')') return commands;
      if (tok === '|') { if (current.length === 0) parser.fail('missing command before |'); commands.push([]); continue; }
      if (tok === '(') { current.push({ kind: 'pipe', pipe: pipe() }); continue; }
      current.push(operand(tok, parser));
    }
    return commands;
  };
  const result = pipe();
  if (result.some((c) => c.length === 0)) parser.fail('missing value for command');
  return result;
}

function operand(tok: string, parser: Parser): Operand {
  if (tok === '.') return { kind: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { kind: 'field', base: 'dot', path: tok.slice(1).split('.') };
  if (tok === '$') return { kind: 'field', base: 'var', path: [] };
  if (tok.startsWith('$.')) return { kind: 'field', base: 'var', path: tok.slice(2).split('.') };
  if (tok.startsWith('"')) {
    try { return { kind: 'literal', value: JSON.parse(tok) as unknown }; } catch { parser.fail(`bad string ${tok}`); }
  }
  if (tok.startsWith('`')) return { kind: 'literal', value: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { kind: 'literal', value: Number(tok) };
  if (tok === 'true' || tok === 'false') return { kind: 'literal', value: tok === 'true' };
  if (tok === 'nil') return { kind: 'literal', value: null };
  if (/^[A-Za-z_]\w*$/.test(tok)) {
    if (FUNCS[tok] === undefined) parser.fail(`function "${tok}" not defined`);
    return { kind: 'func', name: tok };
  }
  return parser.fail(`unexpected "${tok}" in command`);
}

interface Scope { dot: unknown; root: unknown; typeName: string }

function execError(src: string, message: string): never {
  throw invalidArgument('TEMPLATE_EXECUTION', `failed to execute template: template: :1: executing "" at <${src}>: ${message}`);
}

function lookup(value: unknown, path: string[], args: unknown[], scope: Scope, src: string): unknown {
  let current = value;
  path.forEach((name, i) => {
    if (current === null || current === undefined) { current = undefined; return; }
    if (typeof current !== 'object') execError(src, `can't evaluate field ${name} in type ${typeof current}`);
    const record = current as Record<string, unknown>;
    if (!(name in record)) {
      if (i === 0 && scope.typeName !== 'map') execError(src, `can't evaluate field ${name} in type ${scope.typeName}`);
      current = undefined;
      return;
    }
    const next = record[name];
    current = typeof next === 'function' ? (next as TemplateFunc).apply(record, i === path.length - 1 ? args : []) : next;
  });
  return current;
}

function evalCommand(command: Command, piped: unknown[], scope: Scope, src: string): unknown {
  const [head, ...rest] = command;
  if (head === undefined) return undefined;
  const args = [...rest.map((op) => evalOperand(op, [], scope, src)), ...piped];
  if (head.kind === 'func') {
    const fn = FUNCS[head.name];
    if (fn === undefined) return execError(src, `function "${head.name}" not defined`);
    return fn(...args);
  }
  if (head.kind === 'field') return evalOperand(head, args, scope, src);
  if (args.length > 0) execError(src, `can't give argument to non-function`);
  return evalOperand(head, [], scope, src);
}

function evalOperand(op: Operand, args: unknown[], scope: Scope, src: string): unknown {
  if (op.kind === 'literal') return op.value;
  if (op.kind === 'pipe') return evalPipe(op.pipe, scope, src);
  if (op.kind === 'func') return (FUNCS[op.name] as TemplateFunc)(...args);
  return lookup(op.base === 'dot' ? scope.dot : scope.root, op.path, args, scope, src);
}

function evalPipe(pipe: Pipe, scope: Scope, src: string): unknown {
  let value: unknown;
  pipe.forEach((command, i) => { value = evalCommand(command, i === 0 ? [] : [value], scope, src); });
  return value;
}

/** Go names the failing action by line and byte column: "template: :1:2: executing ..." */
function evalAction(node: Extract<Node, { type: 'action' }>, scope: Scope): unknown {
  try {
    return evalPipe(node.pipe, scope, node.src);
  } catch (err) {
    if (err instanceof BerthError && err.code === 'TEMPLATE_EXECUTION') {
      throw new BerthError('invalid_argument', err.code, err.message.replace('template: :1: executing', `template: :1:${node.pos}: executing`));
    }
    throw err;
  }
}

function run(nodes: Node[], scope: Scope, out: string[]): void {
  for (const node of nodes) {
    if (node.type === 'text') out.push(node.text);
    else if (node.type === 'action') out.push(goString(evalAction(node, scope)));
    else if (node.type !== 'range') {
      const value = evalPipe(node.pipe, scope, 'if');
      if (truthy(value)) run(node.then, node.type === 'with' ? { ...scope, dot: value, typeName: 'map' } : scope, out);
      else run(node.otherwise, scope, out);
    } else {
      const value = evalPipe(node.pipe, scope, 'range');
      const items = Array.isArray(value) ? value : typeof value === 'object' && value !== null
        ? Object.keys(value).sort().map((k) => (value as Record<string, unknown>)[k]) : [];
      if (items.length === 0) run(node.otherwise, scope, out);
      for (const item of items) run(node.body, { ...scope, dot: item, typeName: 'map' }, out);
    }
  }
}

export interface Template {
  /** render with `data` as dot; `typeName` names it in "can't evaluate field" errors */
  execute(data: unknown, typeName?: string): string;
}

export function parseTemplate(source: string): Template {
  const nodes = new Parser(source).parse();
  return { execute: (data, typeName = 'map') => { const out: string[] = []; run(nodes, { dot: data, root: data, typeName }, out); return out.join(''); } };
}
