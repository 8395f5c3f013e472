// A classic-BPF interpreter for seccomp programs, enough to run what compile.ts emits
// against synthetic seccomp_data in unit tests (and to explain a filter when debugging).
// It checks what the kernel's verifier checks for these opcodes: jumps stay in the program
// and every path ends in a return.
import { BerthError } from '../../errors/berth-error.js';
import { BPF, BPF_MAXINSNS, type Instruction, decodeProgram } from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** six 64-bit arguments; missing ones are 0 */
  args?: ReadonlyArray<bigint | number>;
}

export interface RunResult {
  /** the SECCOMP_RET_* value returned */
  value: number;
  /** instructions executed */
  steps: number;
}

function seccompDataBytes(data: SeccompData): Buffer {
  const buf = Buffer.alloc(64);
  buf.writeUInt32LE(data.nr >>> 0, 0);
  buf.writeUInt32LE(data.arch >>> 0, 4);
  buf.writeBigUInt64LE(data.instructionPointer ?? 0n, 8);
  for (let i = 0; i < 6; i++) buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(data.args?.[i] ?? 0)), 16 + 8 * i);
  return buf;
}

function fail(message: string): never {
  throw new BerthError('invalid_argument', 'BPF_INVALID', message);
}

export function runSeccompProgram(program: Buffer, data: SeccompData): RunResult {
  return new SeccompInterpreter(program).run(data);
}

/** A program decoded and checked once, to run against many inputs. */
export class SeccompInterpreter {
  private readonly insns: Instruction[];

  constructor(program: Buffer) {
    if (program.length % 8 !== 0) fail(`bpf program length ${program.length} is not a multiple of 8`);
    this.insns = decodeProgram(program);
    if (this.insns.length === 0 || this.insns.length > BPF_MAXINSNS) fail(`bpf program has ${this.insns.length} instructions`);
  }

  run(data: SeccompData): RunResult {
    const insns = this.insns;
    const bytes = seccompDataBytes(data);
    let a = 0;
    let pc = 0;
    let steps = 0;
    for (;;) {
      const insn = insns[pc];
      if (insn === undefined) fail(`bpf program runs off its end at ${pc}`);
      steps++;
      const jumpTo = (offset: number): void => {
        pc = pc + 1 + offset;
        if (pc >= insns.length) fail(`bpf jump out of the program at ${pc}`);
      };
      switch (insn.code) {
        case BPF.LD_W_ABS:
          if (insn.k % 4 !== 0 || insn.k + 4 > 64) fail(`bpf load of seccomp_data offset ${insn.k}`);
          a = bytes.readUInt32LE(insn.k);
          pc++;
          break;
        case BPF.ALU_AND_K: a = (a & insn.k) >>> 0; pc++; break;
        case BPF.JMP_JA: jumpTo(insn.k); break;
        case BPF.JMP_JEQ_K: jumpTo(a === insn.k ? insn.jt : insn.jf); break;
        case BPF.JMP_JGT_K: jumpTo(a > insn.k ? insn.jt : insn.jf); break;
        case BPF.JMP_JGE_K: jumpTo(a >= insn.k ? insn.jt : insn.jf); break;
        case BPF.JMP_JSET_K: jumpTo((a & insn.k) !== 0 ? insn.jt : insn.jf); break;
        case BPF.RET_K: return { value: insn.k >>> 0, steps };
        default: fail(`bpf opcode 0x${insn.code.toString(16)} at ${pc} is not supported`);
      }
    }
  }
}
