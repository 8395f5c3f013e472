// Logical lines -> typed instructions and stages (moby/buildkit instructions/parse.go).
// Arguments stay unexpanded: the evaluator expands them with the stage's ARG/ENV values.
import { parseDockerfile, syntaxError, splitWordsKeepingQuotes, type DockerfileLine, type Heredoc } from './parser.js';

export type CommandForm =
  | { form: 'exec'; args: string[] }
  | { form: 'shell'; text: string };

export interface KeyValue { key: string; value: string }

export interface SourceLine { line: DockerfileLine }

export type Instruction = SourceLine & (
  | { kind: 'from'; image: string; stageName: string | undefined; platform: string | undefined }
  | { kind: 'run'; command: CommandForm; mounts: string[]; network: string | undefined; security: string | undefined; heredocs: Heredoc[] }
  | { kind: 'cmd' | 'entrypoint'; command: CommandForm }
  | { kind: 'shell'; args: string[] }
  | { kind: 'env' | 'label'; pairs: KeyValue[] }
  | { kind: 'maintainer'; author: string }
  | { kind: 'expose'; ports: string[] }
  | ({ kind: 'copy' | 'add' } & CopySpec)
  | { kind: 'volume'; paths: string[] }
  | { kind: 'user'; user: string }
  | { kind: 'workdir'; path: string }
  | { kind: 'arg'; args: Array<{ key: string; value: string | undefined }> }
  | { kind: 'onbuild'; expression: string; trigger: Instruction }
  | { kind: 'stopsignal'; signal: string }
  | { kind: 'healthcheck'; check: HealthcheckSpec }
);

export interface CopySpec {
  sources: string[];
  dest: string;
  from: string | undefined;
  chown: string | undefined;
  chmod: string | undefined;
  checksum: string | undefined;
  link: boolean;
  parents: boolean;
  /** ADD --unpack: undefined = docker's default (local archives unpacked, URLs not) */
  unpack: boolean | undefined;
  excludes: string[];
  heredocs: Heredoc[];
}

export interface HealthcheckSpec {
  /** ["NONE"], ["CMD", ...] or ["CMD-SHELL", text] as stored in the image config */
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

export interface Stage {
  index: number;
  /** lowercase name from `FROM x AS name` */
  name: string | undefined;
  from: Extract<Instruction, { kind: 'from' }>;
  instructions: Instruction[];
}

export interface Dockerfile {
  escape: string;
  syntax: string | undefined;
  globalArgs: Array<Extract<Instruction, { kind: 'arg' }>>;
  stages: Stage[];
  warnings: string[];
}

const FLAGS: Record<string, { single: string[]; multi: string[]; bool: string[] }> = {
  from: { single: ['platform'], multi: [], bool: [] },
  run: { single: ['network', 'security'], multi: ['mount'], bool: [] },
  copy: { single: ['from', 'chown', 'chmod'], multi: ['exclude'], bool: ['link', 'parents'] },
  add: { single: ['chown', 'chmod', 'checksum'], multi: ['exclude'], bool: ['link', 'keep-git-dir', 'unpack'] },
  healthcheck: { single: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'], multi: [], bool: [] },
};

class Flags {
  readonly single = new Map<string, string>();
  readonly multi = new Map<string, string[]>();
  readonly bool = new Set<string>();
  get(name: string): string | undefined { return this.single.get(name); }
}

function parseFlags(line: DockerfileLine, keyword: string): Flags {
  const allowed = FLAGS[keyword] ?? { single: [], multi: [], bool: [] };
  const flags = new Flags();
  for (const raw of line.flags) {
    const body = raw.replace(/^--/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const fail = (msg: string): Error => syntaxError(msg, line.startLine, line.endLine, line.keywordAsWritten.toUpperCase());
    if (allowed.bool.includes(name)) {
      if (value !== undefined && !['true', 'false'].includes(value.toLowerCase())) throw fail(`expecting boolean value for flag ${name}, not: ${value}`);
      if (value === undefined || value.toLowerCase() === 'true') flags.bool.add(name);
    } else if (allowed.single.includes(name)) {
      if (value === undefined) throw fail(`missing a value on flag: ${name}`);
      if (flags.single.has(name)) throw fail(`duplicate flag specified: ${name}`);
      flags.single.set(name, value);
    } else if (allowed.multi.includes(name)) {
      if (value === undefined) throw fail(`missing a value on flag: ${name}`);
      flags.multi.set(name, [...(flags.multi.get(name) ?? []), value]);
    } else {
      throw fail(`unknown flag: ${name}`);
    }
  }
  return flags;
}

/** JSON array form if the text is a JSON array of strings; undefined for shell form. */
function parseJsonArray(rest: string, line: DockerfileLine): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(rest);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) {
    throw syntaxError('the JSON array must contain only strings', line.startLine, line.endLine, line.keywordAsWritten.toUpperCase());
  }
  return value;
}

function commandForm(rest: string, line: DockerfileLine): CommandForm {
  const json = parseJsonArray(rest, line);
  return json ? { form: 'exec', args: json } : { form: 'shell', text: rest };
}

const whitespaceWords = (rest: string): string[] => rest.split(/\s+/).filter((w) => w !== '');

function parseKeyValues(rest: string, line: DockerfileLine, escape: string, allowEmpty: boolean): KeyValue[] {
  const fail = (msg: string): Error => syntaxError(msg, line.startLine, line.endLine, line.keywordAsWritten.toUpperCase());
  const words = splitWordsKeepingQuotes(rest, escape);
  const keyword = line.keywordAsWritten.toUpperCase();
  if (words.length === 0) {
    if (allowEmpty) return [];
    throw fail(`${keyword} must have two arguments`);
  }
  if (!(words[0] ?? '').includes('=')) {
    // legacy `ENV key value with spaces`
    const match = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    if (!match) throw fail(`${keyword} must have two arguments`);
    return [{ key: match[1] ?? '', value: match[2] ?? '' }];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) throw fail(`syntax error - can't find = in "${word}". must be of the form: name=value`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, as HEALTHCHECK flags use it; returns nanoseconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0);
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? Math.round(total) : undefined;
}

function parseHealthcheck(line: DockerfileLine, flags: Flags): HealthcheckSpec {
  const fail = (msg: string): Error => syntaxError(msg, line.startLine, line.endLine, 'HEALTHCHECK');
  const match = /^(\S+)\s*([\s\S]*)$/.exec(line.rest);
  const type = (match?.[1] ?? '').toUpperCase();
  const duration = (name: string): number => {
    const raw = flags.get(name);
    if (raw === undefined) return 0;
    const ns = parseGoDuration(raw);
    if (ns === undefined) throw fail(`invalid duration for --${name}: ${raw}`);
    if (ns !== 0 && ns < 1e6) throw fail(`--${name} cannot be less than 1ms`);
    return ns;
  };
  const spec = {
    intervalNs: duration('interval'), timeoutNs: duration('timeout'),
    startPeriodNs: duration('start-period'), startIntervalNs: duration('start-interval'), retries: 0,
  };
  const retries = flags.get('retries');
  if (retries !== undefined) {
    if (!/^-?\d+$/.test(retries)) throw fail(`invalid --retries value: ${retries}`);
    spec.retries = Number(retries);
    if (spec.retries < 0) throw fail('--retries cannot be negative');
  }
  if (type === 'NONE') {
    if ((match?.[2] ?? '') !== '' || flags.single.size > 0) throw fail('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'], ...spec };
  }
  if (type !== 'CMD') throw fail(`unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const command = commandForm((match?.[2] ?? '').trim(), line);
  if (command.form === 'exec') {
    if (command.args.length === 0) throw fail('missing command after HEALTHCHECK CMD');
    return { test: ['CMD', ...command.args], ...spec };
  }
  if (command.text === '') throw fail('missing command after HEALTHCHECK CMD');
  return { test: ['CMD-SHELL', command.text], ...spec };
}

function parseCopy(line: DockerfileLine, flags: Flags): CopySpec {
  const json = parseJsonArray(line.rest, line);
  const words = json ?? whitespaceWords(line.rest);
  const minimum = line.heredocs.length > 0 ? 1 : 2;
  if (words.length < minimum) {
    throw syntaxError(`${line.keyword.toUpperCase()} requires at least two arguments, but only ${words.length} provided`,
      line.startLine, line.endLine, line.keywordAsWritten.toUpperCase());
  }
  const dest = words[words.length - 1] ?? '';
  return {
    sources: words.slice(0, -1),
    dest,
    from: flags.get('from'),
    chown: flags.get('chown'),
    chmod: flags.get('chmod'),
    checksum: flags.get('checksum'),
    link: flags.bool.has('link'),
    parents: flags.bool.has('parents'),
    unpack: line.flags.some((f) => /^--unpack(=|$)/.test(f)) ? flags.bool.has('unpack') : undefined,
    excludes: flags.multi.get('exclude') ?? [],
    heredocs: line.heredocs,
  };
}

/** Turn one logical line into an instruction; unknown keywords are an error naming the line. */
export function parseInstruction(line: DockerfileLine, escape: string): Instruction {
  const keyword = line.keyword;
  const upper = line.keywordAsWritten.toUpperCase();
  const fail = (msg: string): Error => syntaxError(msg, line.startLine, line.endLine, upper);
  const flags = parseFlags(line, keyword);
  const rest = line.rest;
  const needArgs = (): void => { if (rest === '') throw fail(`${upper} requires at least one argument`); };
  switch (keyword) {
    case 'from': {
      const words = whitespaceWords(rest);
      if (words.length === 0) throw fail('FROM requires either one or three arguments');
      if (words.length !== 1 && !(words.length === 3 && (words[1] ?? '').toLowerCase() === 'as')) {
        throw fail('FROM requires either one or three arguments');
      }
      const stageName = words[2]?.toLowerCase();
      if (stageName !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(stageName)) throw fail(`invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
      return { kind: 'from', line, image: words[0] ?? '', stageName, platform: flags.get('platform') };
    }
    case 'run':
      needArgs();
      return { kind: 'run', line, command: commandForm(rest, line), mounts: flags.multi.get('mount') ?? [],
        network: flags.get('network'), security: flags.get('security'), heredocs: line.heredocs };
    case 'cmd':
    case 'entrypoint':
      return { kind: keyword, line, command: commandForm(rest, line) };
    case 'shell': {
      const args = parseJsonArray(rest, line);
      if (!args) throw fail('SHELL requires the arguments to be in JSON form');
      if (args.length === 0) throw fail('SHELL requires at least one argument');
      return { kind: 'shell', line, args };
    }
    case 'env':
      return { kind: 'env', line, pairs: parseKeyValues(rest, line, escape, false) };
    case 'label':
      return { kind: 'label', line, pairs: parseKeyValues(rest, line, escape, true) };
    case 'maintainer':
      needArgs();
      return { kind: 'maintainer', line, author: rest };
    case 'expose':
      needArgs();
      return { kind: 'expose', line, ports: whitespaceWords(rest) };
    case 'copy':
    case 'add':
      return { kind: keyword, line, ...parseCopy(line, flags) };
    case 'volume': {
      needArgs();
      const paths = parseJsonArray(rest, line) ?? whitespaceWords(rest);
      if (paths.some((p) => p.trim() === '')) throw fail('VOLUME specified can not be an empty string');
      return { kind: 'volume', line, paths };
    }
    case 'user':
      needArgs();
      return { kind: 'user', line, user: rest };
    case 'workdir':
      needArgs();
      return { kind: 'workdir', line, path: rest };
    case 'stopsignal':
      needArgs();
      return { kind: 'stopsignal', line, signal: rest };
    case 'arg':
      return { kind: 'arg', line, args: parseArgs(rest, line, escape) };
    case 'healthcheck':
      needArgs();
      return { kind: 'healthcheck', line, check: parseHealthcheck(line, flags) };
    case 'onbuild':
      return parseOnbuild(line, escape);
    default:
      throw fail(`unknown instruction: ${line.keywordAsWritten}`);
  }
}

function parseArgs(rest: string, line: DockerfileLine, escape: string): Array<{ key: string; value: string | undefined }> {
  const words = splitWordsKeepingQuotes(rest, escape);
  if (words.length === 0) throw syntaxError('ARG requires at least one argument', line.startLine, line.endLine, 'ARG');
  return words.map((word) => {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    if (key === '') throw syntaxError(`ARG names can not be blank: ${word}`, line.startLine, line.endLine, 'ARG');
    return { key, value: eq < 0 ? undefined : word.slice(eq + 1) };
  });
}

function parseOnbuild(line: DockerfileLine, escape: string): Instruction {
  const fail = (msg: string): Error => syntaxError(msg, line.startLine, line.endLine, 'ONBUILD');
  if (line.rest === '') throw fail('ONBUILD requires at least one argument');
  const inner = parseDockerfile(line.rest).lines[0];
  if (!inner) throw fail('ONBUILD requires at least one argument');
  if (inner.keyword === 'onbuild') throw fail("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (inner.keyword === 'from' || inner.keyword === 'maintainer') throw fail(`${inner.keyword.toUpperCase()} isn't allowed as an ONBUILD trigger`);
  const trigger = parseInstruction({ ...inner, startLine: line.startLine, endLine: line.endLine }, escape);
  return { kind: 'onbuild', line, expression: line.rest, trigger };
}

/** Parse a Dockerfile into global ARGs and stages. */
export function parseStages(source: string | Uint8Array): Dockerfile {
  const parsed = parseDockerfile(source);
  const result: Dockerfile = { escape: parsed.escape, syntax: parsed.syntax, globalArgs: [], stages: [], warnings: parsed.warnings };
  for (const line of parsed.lines) {
    const instruction = parseInstruction(line, parsed.escape);
    if (instruction.kind === 'from') {
      const duplicate = result.stages.find((s) => s.name !== undefined && s.name === instruction.stageName);
      if (duplicate) throw syntaxError(`duplicate stage name "${instruction.stageName}"`, line.startLine, line.endLine, 'FROM');
      result.stages.push({ index: result.stages.length, name: instruction.stageName, from: instruction, instructions: [] });
      continue;
    }
    const stage = result.stages[result.stages.length - 1];
    if (stage) { stage.instructions.push(instruction); continue; }
    if (instruction.kind !== 'arg') {
      throw syntaxError(`${line.keywordAsWritten.toUpperCase()} before the first FROM: only ARG may come before FROM`, line.startLine, line.endLine, line.keywordAsWritten.toUpperCase());
    }
    result.globalArgs.push(instruction);
  }
  if (result.stages.length === 0) throw syntaxError('the dockerfile has no FROM instruction', 1);
  return result;
}
