// OCI `linux.seccomp` -> a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER), built
// in TypeScript so the native helper only has to install the bytes.
//
// Program shape (what libseccomp and runc produce, in a form that is easy to check):
//   ld arch; jeq AUDIT_ARCH_x -> section x; ...; ret KILL_PROCESS   (architecture not listed)
//   section: ld nr; [x86_64: nr >= 0x40000000 -> x32 section or KILL]
//            binary search over syscall-number ranges -> ret action | argument rules
// Semantics follow runc with libseccomp:
//   - the native architecture is always in the filter, `architectures` adds to it;
//   - syscall names unknown on every architecture are ignored with a warning; names that
//     exist only on architectures not in the filter are skipped silently;
//   - rules whose action equals the default action are dropped;
//   - all args of a rule must match, except when one index appears twice: then each
//     comparison is a rule of its own (runc's "OR" case);
//   - argument rules are tried in the order given, then the syscall's unconditional
//     action, then the default;
//   - syscalls numbered above the highest one the profile names get ENOSYS when the
//     default action denies (runc's -ENOSYS stub), so newer libcs fall back cleanly;
//   - on 32-bit architectures (x86, x32, arm) only the low 32 bits of arguments are
//     compared, as libseccomp does.
import { BerthError, invalidArgument } from '../../errors/berth-error.js';
import type { LinuxSeccomp, LinuxSeccompArg, SeccompOperator } from '../../oci/runtime-spec.js';
import { ARCHES, type ArchInfo, FOREIGN_ARCHES, isKnownSyscallName, type SupportedArch, X32_SYSCALL_BIT, hostArch, isSupportedArch,
  syscallNumber } from './arch.js';
import { Assembler, type Label, encodeProgram } from './bpf.js';

/** SECCOMP_RET_* */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** SECCOMP_FILTER_FLAG_* that may be passed to seccomp(2) next to the program. */
const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

const EPERM = 1;
const ENOSYS = 38;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARGS = 16;

export interface SeccompCompilation {
  /** struct sock_filter[], little-endian */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2) */
  flags: number;
  /** the architectures the filter covers, native first */
  architectures: SupportedArch[];
  /** things ignored on the way (unknown syscall names, foreign architectures) */
  warnings: string[];
}

export interface CompileOptions {
  /**
   * A syscall name that no architecture knows: 'warn' (runc: ignored, reported in
   * `warnings`) or 'error' (invalid_argument naming the field). Names that exist only on
   * architectures berth has no table for (Docker's profile lists s390 and riscv ones) are
   * never an error.
   */
  unknownSyscall?: 'warn' | 'error';
  /**
   * runc's -ENOSYS stub for syscalls above the highest one named (default true); false
   * gives plain libseccomp behaviour, where they get the default action.
   */
  enosysStub?: boolean;
}

export function compileSeccomp(spec: LinuxSeccomp, arch: SupportedArch = hostArch(), options: CompileOptions = {}): Buffer {
  return compileSeccompWithReport(spec, arch, options).program;
}

interface Condition { index: number; op: SeccompOperator; value: bigint; valueTwo: bigint }
interface Rule { action: number; conditions: Condition[] }
interface SyscallRules { conditional: Rule[]; unconditional?: { action: number; field: string } }

export function compileSeccompWithReport(spec: LinuxSeccomp, arch: SupportedArch = hostArch(), options: CompileOptions = {}): SeccompCompilation {
  const warnings: string[] = [];
  const architectures = resolveArchitectures(spec.architectures ?? [], arch, warnings);
  const defaultAction = actionValue(spec.defaultAction, spec.defaultErrnoRet, 'linux.seccomp.defaultAction');
  const flags = resolveFlags(spec.flags ?? []);
  const perArch = new Map<SupportedArch, Map<number, SyscallRules>>(architectures.map((a) => [a, new Map()]));
  for (const [i, call] of (spec.syscalls ?? []).entries()) {
    const field = `linux.seccomp.syscalls[${i}]`;
    const action = actionValue(call.action, call.errnoRet, `${field}.action`);
    if (action === defaultAction) continue;
    const rules = splitRules(action, (call.args ?? []).map((a, j) => toCondition(a, `${field}.args[${j}]`)));
    for (const [j, name] of call.names.entries()) {
      if (!isKnownSyscallName(name)) {
        if (options.unknownSyscall === 'error') {
          throw invalidArgument('UNKNOWN_SYSCALL', `${field}.names[${j}]: unknown syscall ${JSON.stringify(name)}`);
        }
        warnings.push(`unknown syscall '${name}' in ${field}.names ignored`);
        continue;
      }
      for (const a of architectures) {
        const nr = syscallNumber(a, name);
        if (nr === undefined) continue;
        addRules(perArch.get(a) ?? new Map(), nr, rules, `${field} (${name})`);
      }
    }
  }
  const program = emitProgram(architectures, perArch, defaultAction, options.enosysStub ?? true);
  return { program: encodeProgram(program.assemble()), flags, architectures, warnings };
}

function resolveArchitectures(names: readonly string[], native: SupportedArch, warnings: string[]): SupportedArch[] {
  const result: SupportedArch[] = [native];
  for (const [i, name] of names.entries()) {
    if (isSupportedArch(name)) {
      if (!result.includes(name)) result.push(name);
    } else if (FOREIGN_ARCHES.has(name)) {
      warnings.push(`architecture ${name} in linux.seccomp.architectures[${i}] cannot run on this host; left out`);
    } else {
      throw invalidArgument('INVALID_SECCOMP', `linux.seccomp.architectures[${i}] '${name}' is not a known seccomp architecture`, {
        hint: 'use names like SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_AARCH64, SCMP_ARCH_ARM',
      });
    }
  }
  return result;
}

function resolveFlags(names: readonly string[]): number {
  let flags = 0;
  for (const [i, name] of names.entries()) {
    const bit = FILTER_FLAGS[name];
    if (bit === undefined) {
      const why = name === 'SECCOMP_FILTER_FLAG_NEW_LISTENER' ? 'seccomp notify is not supported by berth' : 'it is not a known flag';
      throw invalidArgument('INVALID_SECCOMP', `linux.seccomp.flags[${i}] '${name}': ${why}`);
    }
    flags |= bit;
  }
  return flags;
}

/** The SECCOMP_RET_* value of an OCI action; errnoRet only goes with ERRNO and TRACE (runc). */
export function actionValue(action: string, errnoRet: number | undefined, field: string): number {
  if (errnoRet !== undefined && (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff)) {
    throw invalidArgument('INVALID_SECCOMP', `${field}: errnoRet ${errnoRet} is not between 0 and 65535`);
  }
  if (errnoRet !== undefined && action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE') {
    throw invalidArgument('INVALID_SECCOMP', `${field}: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
  }
  switch (action) {
    case 'SCMP_ACT_ALLOW': return RET.ALLOW;
    case 'SCMP_ACT_ERRNO': return (RET.ERRNO | (errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE': return (RET.TRACE | (errnoRet ?? EPERM)) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return RET.TRAP;
    case 'SCMP_ACT_LOG': return RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new BerthError('not_implemented', 'SECCOMP_NOTIFY_UNSUPPORTED', `${field}: SCMP_ACT_NOTIFY is not supported by berth`);
    default:
      throw invalidArgument('INVALID_SECCOMP', `${field}: '${action}' is not a seccomp action`);
  }
}

function toUint64(value: number | bigint, field: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw invalidArgument('INVALID_SECCOMP', `${field}: ${value} is not an exact integer (JSON numbers above 2^53 lose precision)`);
  }
  const big = BigInt(value);
  if (big < 0n || big > 0xffffffffffffffffn) throw invalidArgument('INVALID_SECCOMP', `${field}: ${value} is not a 64-bit unsigned value`);
  return big;
}

function toCondition(arg: LinuxSeccompArg, field: string): Condition {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw invalidArgument('INVALID_SECCOMP', `${field}.index ${arg.index} is not between 0 and 5`);
  }
  return {
    index: arg.index,
    op: arg.op,
    value: toUint64(arg.value, `${field}.value`),
    valueTwo: toUint64(arg.valueTwo ?? 0, `${field}.valueTwo`),
  };
}

/** runc: several comparisons on one argument index mean "any of them" (one rule each). */
function splitRules(action: number, conditions: Condition[]): Rule[] {
  const indexes = conditions.map((c) => c.index);
  if (new Set(indexes).size === indexes.length) return [{ action, conditions }];
  return conditions.map((c) => ({ action, conditions: [c] }));
}

function addRules(table: Map<number, SyscallRules>, nr: number, rules: Rule[], where: string): void {
  const entry = table.get(nr) ?? { conditional: [] };
  table.set(nr, entry);
  for (const rule of rules) {
    if (rule.conditions.length > 0) {
      entry.conditional.push(rule);
      continue;
    }
    if (entry.unconditional !== undefined && entry.unconditional.action !== rule.action) {
      throw invalidArgument('INVALID_SECCOMP',
        `${where} gives the syscall a different action than ${entry.unconditional.field} already did`,
        { hint: 'one syscall can have one action without argument conditions' });
    }
    entry.unconditional ??= { action: rule.action, field: where };
  }
}


// ---- code generation ----

type Block = { kind: 'ret'; action: number } | { kind: 'rules'; rules: SyscallRules; fallback: number };
interface Segment { lo: number; hi: number; block: Block }

function emitProgram(architectures: SupportedArch[], perArch: Map<SupportedArch, Map<number, SyscallRules>>, defaultAction: number,
  enosysStub: boolean): Assembler {
  const asm = new Assembler();
  const stubAction = enosysStub && isDenying(defaultAction) ? (RET.ERRNO | ENOSYS) >>> 0 : defaultAction;
  const byAudit = new Map<number, SupportedArch[]>();
  for (const a of architectures) byAudit.set(ARCHES[a].audit, [...(byAudit.get(ARCHES[a].audit) ?? []), a]);
  const sections = [...byAudit.entries()].map(([audit, arches]) => ({ audit, arches, label: asm.label(`arch-${audit.toString(16)}`) }));

  asm.loadWord(OFFSET_ARCH);
  for (const section of sections) {
    const next = asm.label('next-arch');
    asm.branch('jeq', section.audit, section.label, next);
    asm.bind(next);
  }
  asm.ret(RET.KILL_PROCESS);

  for (const section of sections) {
    asm.bind(section.label);
    asm.loadWord(OFFSET_NR);
    const main = section.arches.find((a) => a !== 'SCMP_ARCH_X32');
    const x32 = section.arches.includes('SCMP_ARCH_X32');
    const isX86Family = ARCHES[section.arches[0] ?? 'SCMP_ARCH_X86_64'].audit === ARCHES.SCMP_ARCH_X86_64.audit;
    const lowSection = asm.label('native-numbers');
    const highSection = asm.label('x32-numbers');
    if (isX86Family) {
      // nr -1 is how a tracer skips a syscall; libseccomp gives it the default action
      // instead of treating it as an x32 number, and so does berth.
      const notMinusOne = asm.label('not-minus-one');
      const minusOne = asm.label('minus-one');
      asm.branch('jeq', 0xffffffff, minusOne, notMinusOne);
      asm.bind(minusOne);
      asm.ret(defaultAction);
      asm.bind(notMinusOne);
      asm.branch('jge', X32_SYSCALL_BIT, highSection, lowSection);
    }
    asm.bind(lowSection);
    if (main) emitTree(asm, ARCHES[main], segments(perArch.get(main), 0, isX86Family ? X32_SYSCALL_BIT - 1 : 0xffffffff, defaultAction, stubAction));
    else asm.ret(RET.KILL_PROCESS);
    if (isX86Family) {
      asm.bind(highSection);
      if (x32) emitTree(asm, ARCHES.SCMP_ARCH_X32, segments(perArch.get('SCMP_ARCH_X32'), X32_SYSCALL_BIT, 0xffffffff, defaultAction, stubAction));
      else asm.ret(RET.KILL_PROCESS);
    }
  }
  return asm;
}

function isDenying(action: number): boolean {
  const kind = (action & 0xffff0000) >>> 0;
  return kind === RET.ERRNO || kind === RET.KILL_THREAD || kind === RET.KILL_PROCESS || kind === RET.TRAP;
}

/** Partition [lo, hi] into ranges of one block each: the syscalls, the gaps, and above the last one. */
function segments(table: Map<number, SyscallRules> | undefined, lo: number, hi: number, defaultAction: number, stubAction: number): Segment[] {
  const numbers = [...(table?.keys() ?? [])].filter((n) => n >= lo && n <= hi).sort((a, b) => a - b);
  const result: Segment[] = [];
  const push = (segment: Segment): void => {
    const last = result[result.length - 1];
    if (last && last.hi + 1 === segment.lo && last.block.kind === 'ret' && segment.block.kind === 'ret' && last.block.action === segment.block.action) {
      last.hi = segment.hi;
    } else {
      result.push(segment);
    }
  };
  let cursor = lo;
  for (const nr of numbers) {
    if (nr > cursor) push({ lo: cursor, hi: nr - 1, block: { kind: 'ret', action: defaultAction } });
    const rules = table?.get(nr) ?? { conditional: [] };
    const fallback = rules.unconditional?.action ?? defaultAction;
    push({ lo: nr, hi: nr, block: rules.conditional.length === 0 ? { kind: 'ret', action: fallback } : { kind: 'rules', rules, fallback } });
    cursor = nr + 1;
  }
  if (cursor <= hi) push({ lo: cursor, hi, block: { kind: 'ret', action: numbers.length > 0 ? stubAction : defaultAction } });
  return result;
}

/** Binary search on the syscall number in A; each leaf returns. */
function emitTree(asm: Assembler, arch: ArchInfo, segs: Segment[]): void {
  if (segs.length === 1) {
    const block = segs[0]?.block;
    if (block?.kind === 'ret') asm.ret(block.action);
    else if (block) emitRules(asm, arch, block.rules, block.fallback);
    return;
  }
  const mid = Math.ceil(segs.length / 2);
  const right = segs.slice(mid);
  const rightLabel = asm.label('upper');
  const leftLabel = asm.label('lower');
  asm.branch('jge', right[0]?.lo ?? 0, rightLabel, leftLabel);
  asm.bind(leftLabel);
  emitTree(asm, arch, segs.slice(0, mid));
  asm.bind(rightLabel);
  emitTree(asm, arch, right);
}

function emitRules(asm: Assembler, arch: ArchInfo, rules: SyscallRules, fallback: number): void {
  for (const rule of rules.conditional) {
    const fail = asm.label('rule-fails');
    for (const condition of rule.conditions) emitCondition(asm, arch.bits, condition, fail);
    asm.ret(rule.action);
    asm.bind(fail);
  }
  asm.ret(fallback);
}

/** Falls through when the comparison holds, jumps to `fail` when it does not. */
function emitCondition(asm: Assembler, bits: 32 | 64, c: Condition, fail: Label): void {
  const pass = asm.label('cond-holds');
  const lowOffset = OFFSET_ARGS + 8 * c.index;
  const highOffset = lowOffset + 4;
  const low = (v: bigint): number => Number(v & 0xffffffffn);
  const high = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
  if (bits === 32) {
    asm.loadWord(lowOffset);
    emitWordCompare(asm, c.op, low(c.value), low(c.valueTwo), pass, fail);
    asm.bind(pass);
    return;
  }
  const checkLow = asm.label('check-low-word');
  asm.loadWord(highOffset);
  emitHighWordCompare(asm, c.op, high(c.value), high(c.valueTwo), checkLow, pass, fail);
  asm.bind(checkLow);
  asm.loadWord(lowOffset);
  emitWordCompare(asm, c.op, low(c.value), low(c.valueTwo), pass, fail);
  asm.bind(pass);
}

/** The high word decides unless equal; then `equal` (the low word) decides. */
function emitHighWordCompare(asm: Assembler, op: SeccompOperator, v: number, v2: number, equal: Label, pass: Label, fail: Label): void {
  const notAbove = asm.label('not-above');
  switch (op) {
    case 'SCMP_CMP_EQ': asm.branch('jeq', v, equal, fail); return;
    case 'SCMP_CMP_NE': asm.branch('jeq', v, equal, pass); return;
    case 'SCMP_CMP_MASKED_EQ': asm.and(v); asm.branch('jeq', v2, equal, fail); return;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      asm.branch('jgt', v, pass, notAbove);
      asm.bind(notAbove);
      asm.branch('jeq', v, equal, fail);
      return;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      asm.branch('jgt', v, fail, notAbove);
      asm.bind(notAbove);
      asm.branch('jeq', v, equal, pass);
      return;
  }
}

/** One 32-bit word in A against the operator. */
function emitWordCompare(asm: Assembler, op: SeccompOperator, v: number, v2: number, pass: Label, fail: Label): void {
  switch (op) {
    case 'SCMP_CMP_EQ': asm.branch('jeq', v, pass, fail); return;
    case 'SCMP_CMP_NE': asm.branch('jeq', v, fail, pass); return;
    case 'SCMP_CMP_GT': asm.branch('jgt', v, pass, fail); return;
    case 'SCMP_CMP_GE': asm.branch('jge', v, pass, fail); return;
    case 'SCMP_CMP_LT': asm.branch('jge', v, fail, pass); return;
    case 'SCMP_CMP_LE': asm.branch('jgt', v, fail, pass); return;
    case 'SCMP_CMP_MASKED_EQ': asm.and(v); asm.branch('jeq', v2, pass, fail); return;
  }
}

/**
 * A compiler that remembers its last few programs: containers of one daemon mostly share
 * one profile, and compiling Docker's default takes milliseconds on the start path.
 */
export function cachingSeccompCompiler(capacity = 8, options: CompileOptions = {}): (spec: LinuxSeccomp, arch?: SupportedArch) => Buffer {
  const cache = new Map<string, Buffer>();
  return (spec, arch = hostArch()) => {
    const key = `${arch}\n${JSON.stringify(spec)}`;
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit); // most recently used last
      return Buffer.from(hit);
    }
    const program = compileSeccomp(spec, arch, options);
    cache.set(key, Buffer.from(program));
    if (cache.size > capacity) cache.delete(cache.keys().next().value ?? key);
    return program;
  };
}
