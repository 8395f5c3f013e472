import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbeResult, healthAtStart, healthAtStop, healthSuffix, MAX_OUTPUT_BYTES, truncateOutput, type HealthState } from './state.js';

const entry = (exitCode: number, n = 0): { entry: { Start: string; End: string; ExitCode: number; Output: string }; sinceStartMs: number } =>
  ({ entry: { Start: `s${n}`, End: `e${n}`, ExitCode: exitCode, Output: '' }, sinceStartMs: 10_000 });
const rules = { retries: 2, startPeriodMs: 0 };

test('success is healthy and clears the streak; failures turn unhealthy at the retries', () => {
  let h: HealthState = healthAtStart(undefined);
  h = applyProbeResult(h, entry(1), rules);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
  h = applyProbeResult(h, entry(2), rules);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
  h = applyProbeResult(h, entry(0), rules);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  h = applyProbeResult(h, entry(-1), rules);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1], 'one failure of two keeps healthy');
});

test('inside the start period a starting container does not count failures', () => {
  const start = healthAtStart(undefined);
  const graced = applyProbeResult(start, { ...entry(1), sinceStartMs: 500 }, { retries: 1, startPeriodMs: 1000 });
  assert.deepEqual([graced.Status, graced.FailingStreak, graced.Log?.length], ['starting', 0, 1]);
  const counted = applyProbeResult(start, { ...entry(1), sinceStartMs: 1500 }, { retries: 1, startPeriodMs: 1000 });
  assert.equal(counted.Status, 'unhealthy');
});

test('the log keeps the last five; a new run starts over but keeps the log; a stop reads unhealthy', () => {
  let h: HealthState = healthAtStart(undefined);
  for (let i = 0; i < 7; i++) h = applyProbeResult(h, entry(0, i), rules);
  assert.deepEqual(h.Log?.map((e) => e.Start), ['s2', 's3', 's4', 's5', 's6']);
  assert.deepEqual(healthAtStart(h), { Status: 'starting', FailingStreak: 0, Log: h.Log });
  assert.equal(healthAtStop(h)?.Status, 'unhealthy');
  assert.equal(healthAtStop(undefined), undefined);
});

test('ps suffixes and output truncation as docker shows them', () => {
  assert.equal(healthSuffix({ Status: 'starting', FailingStreak: 0, Log: [] }), ' (health: starting)');
  assert.equal(healthSuffix({ Status: 'healthy', FailingStreak: 0, Log: [] }), ' (healthy)');
  assert.equal(healthSuffix(undefined), '');
  assert.equal(truncateOutput([Buffer.from('ok\n')]), 'ok\n');
  const long = truncateOutput([Buffer.alloc(MAX_OUTPUT_BYTES, 'a'), Buffer.from('bcd')]);
  assert.equal(long, `${'a'.repeat(MAX_OUTPUT_BYTES)}...`);
});
