import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartTracker, startsWithDaemon } from './restart-policy.js';

test('policies decide as docker does and the delay doubles until a stable run', () => {
  const t = new RestartTracker();
  assert.deepEqual(t.decide({ Name: 'no' }, 1, false, 0, 0), { restart: false, delayMs: 0 });
  assert.deepEqual(t.decide({ Name: 'always' }, 0, false, 0, 0), { restart: true, delayMs: 100 });
  assert.deepEqual(t.decide({ Name: 'always' }, 0, false, 0, 1), { restart: true, delayMs: 200 });
  assert.deepEqual(t.decide({ Name: 'always' }, 0, false, 20_000, 2), { restart: true, delayMs: 100 });
  assert.equal(t.decide({ Name: 'always' }, 0, true, 0, 0).restart, false);
  assert.equal(t.decide({ Name: 'on-failure', MaximumRetryCount: 2 }, 0, false, 0, 0).restart, false);
  assert.equal(t.decide({ Name: 'on-failure', MaximumRetryCount: 2 }, 3, false, 0, 1).restart, true);
  assert.equal(t.decide({ Name: 'on-failure', MaximumRetryCount: 2 }, 3, false, 0, 2).restart, false);
  assert.equal(t.decide({ Name: 'unless-stopped' }, 0, true, 0, 0).restart, false);
  assert.equal(startsWithDaemon({ Name: 'unless-stopped' }, false, false), true);
  assert.equal(startsWithDaemon({ Name: 'unless-stopped' }, true, false), false);
  assert.equal(startsWithDaemon({ Name: 'no' }, false, true), false);
});
