import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapConcurrent } from './concurrency.js';

test('runs at most `limit` at once and keeps the input order', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapConcurrent([5, 1, 4, 2, 3, 0], 3, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await sleep(n * 2);
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
  assert.equal(peak, 3);
});

test('a failure stops new work and is thrown after running work settles', async () => {
  const started: number[] = [];
  await assert.rejects(mapConcurrent([1, 2, 3, 4, 5, 6], 2, async (n) => {
    started.push(n);
    await sleep(1);
    if (n === 2) throw new Error('layer 2 failed');
    return n;
  }), /layer 2 failed/);
  assert.ok(started.length < 6, `no new work after the failure (started ${started.join(',')})`);
  assert.deepEqual(await mapConcurrent([], 3, async () => 1), []);
});
