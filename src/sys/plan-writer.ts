// Encodes a helper plan (layout in plan-format.ts). Pure: no I/O, unit-tested.
import { PLAN_MAGIC, PLAN_OPS, type PlanOpName } from './plan-format.js';

export type PlanString = string | Uint8Array;

export interface PlanOp {
  op: PlanOpName;
  ints?: ReadonlyArray<number | bigint>;
  strs?: readonly PlanString[];
}

const TWO_32 = 2 ** 32;

function byteLength(s: PlanString): number {
  return typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : s.byteLength;
}

/** u64 little endian; a non-negative safe integer without a BigInt, anything else as 64-bit two's complement */
function writeU64(out: Buffer, value: number | bigint, pos: number): void {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    out.writeUInt32LE(value % TWO_32, pos);
    out.writeUInt32LE(Math.floor(value / TWO_32), pos + 4);
  } else {
    out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), pos);
  }
}

/**
 * The whole plan in one buffer sized up front (a plan is ~150 records, ~13 KB with a
 * seccomp program): no buffer per record and no concatenation.
 */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const lengths: number[][] = [];
  let size = PLAN_MAGIC.length;
  for (const entry of ops) {
    const strLengths = (entry.strs ?? []).map(byteLength);
    lengths.push(strLengths);
    size += 16 + (entry.ints?.length ?? 0) * 8 + strLengths.reduce((sum, n) => sum + 4 + n + 1, 0);
  }
  const out = Buffer.alloc(size); // zeroed: every string's NUL terminator is already there
  let pos = out.write(PLAN_MAGIC, 0, 'ascii');
  ops.forEach((entry, index) => {
    const ints = entry.ints ?? [];
    const strs = entry.strs ?? [];
    const strLengths = lengths[index] ?? [];
    const bodyLength = ints.length * 8 + strLengths.reduce((sum, n) => sum + 4 + n + 1, 0);
    out.writeUInt32LE(PLAN_OPS[entry.op], pos);
    out.writeUInt32LE(ints.length, pos + 4);
    out.writeUInt32LE(strs.length, pos + 8);
    out.writeUInt32LE(bodyLength, pos + 12);
    pos += 16;
    for (const value of ints) {
      writeU64(out, value, pos);
      pos += 8;
    }
    strs.forEach((s, i) => {
      const length = strLengths[i] ?? 0;
      out.writeUInt32LE(length, pos);
      if (typeof s === 'string') out.write(s, pos + 4, length, 'utf8');
      else out.set(s, pos + 4);
      pos += 4 + length + 1;
    });
  });
  return out;
}
