import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../../errors/berth-error.js';
import { checkHealthcheck, goDuration, healthProbeOf, mergeHealthcheck } from './config.js';

test('merge: the request fills what it names, the image the rest (dockerd merge)', () => {
  const image = { Test: ['CMD', 'check'], Interval: 5e9, Retries: 2 };
  assert.deepEqual(mergeHealthcheck(undefined, image), image);
  assert.deepEqual(mergeHealthcheck({ Interval: 1e9 }, image), { Test: ['CMD', 'check'], Interval: 1e9, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 2 });
  assert.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, image)?.Test, ['NONE']);
  assert.deepEqual(mergeHealthcheck({ Test: ['CMD', 'x'] }, undefined), { Test: ['CMD', 'x'] });
});

test('probe: CMD as is, CMD-SHELL through the container shell, docker defaults; NONE and nothing give no probe', () => {
  assert.deepEqual(healthProbeOf({ Healthcheck: { Test: ['CMD', 'curl', '-f', 'x'] } }),
    { args: ['curl', '-f', 'x'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 });
  assert.deepEqual(healthProbeOf({ Healthcheck: { Test: ['CMD-SHELL', 'exit 1'], Interval: 5e8, Retries: 1 } })?.args, ['/bin/sh', '-c', 'exit 1']);
  assert.deepEqual(healthProbeOf({ Healthcheck: { Test: ['CMD-SHELL', 'x'] }, Shell: ['/bin/bash', '-ec'] })?.args, ['/bin/bash', '-ec', 'x']);
  assert.equal(healthProbeOf({ Healthcheck: { Test: ['NONE'] } }), undefined);
  assert.equal(healthProbeOf({}), undefined);
  assert.equal(healthProbeOf({ Healthcheck: { Test: [] } }), undefined);
});

test('checks: durations below 1ms, negative retries, unknown types and empty commands are refused', () => {
  const refused = (check: Parameters<typeof checkHealthcheck>[0], message: RegExp): void => {
    assert.throws(() => checkHealthcheck(check), (err) => isBerthError(err, 'invalid_argument') && message.test(err.message));
  };
  refused({ Test: ['CMD', 'x'], Interval: 999 }, /Interval in Healthcheck cannot be less than 1ms/);
  refused({ Test: ['CMD', 'x'], StartInterval: 5 }, /StartInterval/);
  refused({ Test: ['CMD', 'x'], Retries: -1 }, /Retries in Healthcheck cannot be negative/);
  refused({ Test: ['HTTP', 'x'] }, /unknown healthcheck type 'HTTP'/);
  refused({ Test: ['CMD-SHELL', '  '] }, /has no command/);
  checkHealthcheck({ Test: ['NONE'] });
  checkHealthcheck({ Test: ['CMD', 'x'], Interval: 1_000_000, Timeout: 0 });
  checkHealthcheck(null);
});

test('durations print as Go prints them', () => {
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(30_000), '30s');
  assert.equal(goDuration(1_500), '1.5s');
  assert.equal(goDuration(90_000), '1m30s');
  assert.equal(goDuration(3_600_000), '1h0m0s');
});
