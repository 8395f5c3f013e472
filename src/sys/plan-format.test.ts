import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPlanHeader, PLAN_OPS } from './plan-format.js';
import { encodePlan } from './plan-writer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

test('native/src/plan-ops.h is the header generated from plan-format.ts', async () => {
  const header = await readFile(path.join(repo, 'native/src/plan-ops.h'), 'utf8');
  assert.equal(header, renderPlanHeader(), 'regenerate with: npx tsx src/sys/plan-format.ts > native/src/plan-ops.h');
});

test('a plan encodes to the documented record layout', () => {
  const buf = encodePlan([{ op: 'MOUNT', ints: [4096, 1n, 1], strs: ['/src', '/dst', '', 'a=b'] }]);
  assert.equal(buf.subarray(0, 8).toString('ascii'), 'BRTHPLN1');
  assert.equal(buf.readUInt32LE(8), PLAN_OPS.MOUNT);
  assert.equal(buf.readUInt32LE(12), 3);
  assert.equal(buf.readUInt32LE(16), 4);
  const body = buf.readUInt32LE(20);
  assert.equal(buf.length, 24 + body);
  assert.equal(buf.readBigUInt64LE(24), 4096n);
  const firstString = 24 + 24;
  assert.equal(buf.readUInt32LE(firstString), 4);
  assert.equal(buf.subarray(firstString + 4, firstString + 8).toString(), '/src');
  assert.equal(buf[firstString + 8], 0);
});

test('negative numbers are sent as their 64-bit two\'s complement', () => {
  const buf = encodePlan([{ op: 'OOM_SCORE_ADJ', ints: [-500] }]);
  assert.equal(buf.readBigInt64LE(24), -500n);
});

test('integers above 32 bits, the largest u64 and byte strings keep their exact encoding', () => {
  const bytes = Uint8Array.from([1, 0, 255]);
  const buf = encodePlan([{ op: 'RLIMIT', ints: [2 ** 40 + 7, 2 ** 53 - 1, 0xffffffffffffffffn], strs: [bytes, 'é'] }]);
  assert.equal(buf.readBigUInt64LE(24), 2n ** 40n + 7n);
  assert.equal(buf.readBigUInt64LE(32), 2n ** 53n - 1n);
  assert.equal(buf.readBigUInt64LE(40), 0xffffffffffffffffn);
  assert.equal(buf.readUInt32LE(48), 3);
  assert.deepEqual([...buf.subarray(52, 55)], [1, 0, 255]);
  assert.equal(buf[55], 0);
  assert.equal(buf.readUInt32LE(56), 2, 'a string is counted in UTF-8 bytes');
  assert.equal(buf.subarray(60, 62).toString('utf8'), 'é');
  assert.equal(buf.length, 63);
});
