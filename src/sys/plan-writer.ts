// Encodes a helper plan (layout in plan-format.ts). Pure: no I/O, unit-tested.
import { PLAN_MAGIC, PLAN_OPS, type PlanOpName } from './plan-format.js';

export type PlanString = string | Uint8Array;

export interface PlanOp {
  op: PlanOpName;
  ints?: ReadonlyArray<number | bigint>;
  strs?: readonly PlanString[];
}

function encodeOp(entry: PlanOp): Buffer {
  const ints = entry.ints ?? [];
  const strs = (entry.strs ?? []).map((s) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)));
  const bodyLength = ints.length * 8 + strs.reduce((sum, s) => sum + 4 + s.length + 1, 0);
  const out = Buffer.alloc(16 + bodyLength);
  out.writeUInt32LE(PLAN_OPS[entry.op], 0);
  out.writeUInt32LE(ints.length, 4);
  out.writeUInt32LE(strs.length, 8);
  out.writeUInt32LE(bodyLength, 12);
  let pos = 16;
  for (const value of ints) {
    out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), pos);
    pos += 8;
  }
  for (const s of strs) {
    out.writeUInt32LE(s.length, pos);
    s.copy(out, pos + 4);
    pos += 4 + s.length + 1;
  }
  return out;
}

export function encodePlan(ops: readonly PlanOp[]): Buffer {
  return Buffer.concat([Buffer.from(PLAN_MAGIC, 'ascii'), ...ops.map(encodeOp)]);
}
