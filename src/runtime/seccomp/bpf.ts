// A tiny classic-BPF assembler: instructions with symbolic forward labels, laid out into
// struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } (little-endian, 8 bytes each).
// Conditional jumps reach at most 255 instructions; farther targets get a trampoline
// (an unconditional `ja`, which has a 32-bit offset) right after the jump.
import { BerthError } from '../../errors/berth-error.js';

export const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JGE_K: 0x35,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export interface Label { readonly id: number; readonly name: string }

export type JumpCondition = 'jeq' | 'jgt' | 'jge' | 'jset';

type Item =
  | { kind: 'ld'; k: number }
  | { kind: 'and'; k: number }
  | { kind: 'ret'; k: number }
  | { kind: 'ja'; target: Label }
  | { kind: 'jcond'; cond: JumpCondition; k: number; jt: Label; jf: Label }
  | { kind: 'label'; label: Label };

const CONDITION_CODES: Record<JumpCondition, number> = {
  jeq: BPF.JMP_JEQ_K, jgt: BPF.JMP_JGT_K, jge: BPF.JMP_JGE_K, jset: BPF.JMP_JSET_K,
};

export interface Instruction { code: number; jt: number; jf: number; k: number }

export class Assembler {
  private readonly items: Item[] = [];
  private nextLabel = 0;

  label(name = 'L'): Label {
    return { id: this.nextLabel++, name };
  }

  /** Place `label` here: jumps to it land on the next instruction emitted. */
  bind(label: Label): void {
    this.items.push({ kind: 'label', label });
  }

  loadWord(offset: number): void {
    this.items.push({ kind: 'ld', k: offset });
  }

  and(k: number): void {
    this.items.push({ kind: 'and', k: k >>> 0 });
  }

  ret(k: number): void {
    this.items.push({ kind: 'ret', k: k >>> 0 });
  }

  jump(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  /** if (A <cond> k) goto jt else goto jf; either may be a label bound right after. */
  branch(cond: JumpCondition, k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jcond', cond, k: k >>> 0, jt, jf });
  }

  /** Lay out, insert trampolines for far jumps, and encode. */
  assemble(): Instruction[] {
    let items = [...this.items];
    for (;;) {
      const positions = this.layout(items);
      const rewritten = this.withTrampolines(items, positions);
      if (rewritten === undefined) return this.encode(items, positions);
      items = rewritten;
    }
  }

  private layout(items: Item[]): Map<number, number> {
    const positions = new Map<number, number>();
    let pc = 0;
    for (const item of items) {
      if (item.kind === 'label') positions.set(item.label.id, pc);
      else pc++;
    }
    return positions;
  }

  private offset(positions: Map<number, number>, from: number, label: Label): number {
    const target = positions.get(label.id);
    if (target === undefined) throw new BerthError('internal', 'BPF_UNBOUND_LABEL', `bpf label ${label.name} was never placed`);
    const offset = target - from - 1;
    if (offset < 0) throw new BerthError('internal', 'BPF_BACKWARD_JUMP', `bpf jump to ${label.name} goes backwards`);
    return offset;
  }

  /**
   * One pass: every conditional jump with a side farther than 255 gets that side routed
   * through a `ja` placed right after it. Neither a conditional jump nor `ja` falls
   * through, so nothing else changes meaning. Inserting moves later targets, so the
   * caller repeats until a pass finds nothing (two or three passes in practice).
   * Returns undefined when nothing was far.
   */
  private withTrampolines(items: Item[], positions: Map<number, number>): Item[] | undefined {
    const result: Item[] = [];
    let changed = false;
    let pc = 0;
    for (const item of items) {
      if (item.kind === 'label') {
        result.push(item);
        continue;
      }
      if (item.kind !== 'jcond') {
        result.push(item);
        pc++;
        continue;
      }
      const replaced = { ...item };
      const trampolines: Item[] = [];
      for (const side of ['jt', 'jf'] as const) {
        if (this.offset(positions, pc, item[side]) <= 255) continue;
        const trampoline = this.label(`far-${item[side].name}`);
        trampolines.push({ kind: 'label', label: trampoline }, { kind: 'ja', target: item[side] });
        replaced[side] = trampoline;
        changed = true;
      }
      result.push(replaced, ...trampolines);
      pc++;
    }
    return changed ? result : undefined;
  }

  private encode(items: Item[], positions: Map<number, number>): Instruction[] {
    const out: Instruction[] = [];
    for (const item of items) {
      const pc = out.length;
      switch (item.kind) {
        case 'label': continue;
        case 'ld': out.push({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: item.k }); break;
        case 'and': out.push({ code: BPF.ALU_AND_K, jt: 0, jf: 0, k: item.k }); break;
        case 'ret': out.push({ code: BPF.RET_K, jt: 0, jf: 0, k: item.k }); break;
        case 'ja': out.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: this.offset(positions, pc, item.target) }); break;
        case 'jcond':
          out.push({
            code: CONDITION_CODES[item.cond],
            jt: this.offset(positions, pc, item.jt),
            jf: this.offset(positions, pc, item.jf),
            k: item.k,
          });
          break;
      }
    }
    if (out.length > BPF_MAXINSNS) {
      throw new BerthError('invalid_argument', 'SECCOMP_TOO_LARGE',
        `the seccomp filter needs ${out.length} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`,
        { hint: 'fewer argument rules or architectures make the filter smaller' });
    }
    return out;
  }
}

/** struct sock_filter[] as the kernel reads it. */
export function encodeProgram(instructions: readonly Instruction[]): Buffer {
  const buf = Buffer.alloc(instructions.length * 8);
  instructions.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

export function decodeProgram(program: Buffer): Instruction[] {
  const out: Instruction[] = [];
  for (let off = 0; off + 8 <= program.length; off += 8) {
    out.push({ code: program.readUInt16LE(off), jt: program.readUInt8(off + 2), jf: program.readUInt8(off + 3), k: program.readUInt32LE(off + 4) });
  }
  return out;
}
