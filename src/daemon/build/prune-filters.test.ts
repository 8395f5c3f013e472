import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration, pruneFilters, untilTime } from './prune-filters.js';

test('until is a Go duration back from now or a timestamp; other filters are refused', () => {
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('90s'), 90_000);
  assert.equal(parseGoDuration('soon'), undefined);
  assert.equal(untilTime('24h', 100_000_000), 100_000_000 - 86_400_000);
  assert.equal(untilTime('1700000000'), 1_700_000_000_000);
  assert.equal(untilTime('2020-01-01T00:00:00Z'), Date.UTC(2020, 0, 1));
  assert.throws(() => untilTime('whenever'), /invalid filter 'until=whenever'/);
  assert.deepEqual(pruneFilters({}), {});
  assert.throws(() => pruneFilters({ type: ['x'] }), /invalid filter 'type'/);
});
