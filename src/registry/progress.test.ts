import { test } from 'node:test';
import assert from 'node:assert/strict';
import { throttledProgress, type ProgressEvent } from './progress.js';

test('byte progress is throttled but the final count always arrives', () => {
  const events: ProgressEvent[] = [];
  let now = 1000;
  const report = throttledProgress((e) => events.push(e), 'abc', 'Downloading', 100, 100, () => now);
  report(10);
  report(20);
  now += 150;
  report(30);
  report(100);
  assert.deepEqual(events.map((e) => e.current), [10, 30, 100]);
  assert.deepEqual(events[0], { id: 'abc', status: 'Downloading', current: 10, total: 100 });
  assert.doesNotThrow(() => throttledProgress(undefined, 'x', 'Pushing', 1)(1));
});
