import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../errors/berth-error.js';
import { blkioWeightToIoWeight, cpuMax, deviceRuleLine, pidsMax, sharesToWeight, swapToV2, withoutRepeatedAllows } from './convert.js';

test('cpu shares convert to cpu.weight with runc formula', () => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(1_000_000), 10000);
});

test('blkio weight converts to io.weight with runc formula', () => {
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
});

test('swap: memory+swap becomes swap alone on v2, with clear errors', () => {
  assert.equal(swapToV2(200, 100), 100);
  assert.equal(swapToV2(100, 100), 0);
  assert.equal(swapToV2(-1, 100), -1);
  assert.equal(swapToV2(undefined, -1), -1);
  assert.equal(swapToV2(undefined, 100), undefined);
  assert.throws(() => swapToV2(50, 100), (err) => isBerthError(err, 'invalid_argument') && /memory\.swap/.test(err.message));
  assert.throws(() => swapToV2(50, undefined), /without a memory limit/);
});

test('cpu.max and pids.max values', () => {
  assert.equal(cpuMax(50000, 100000), '50000 100000');
  assert.equal(cpuMax(-1, 100000), 'max 100000');
  assert.equal(cpuMax(20000, undefined), '20000 100000');
  assert.equal(cpuMax(undefined, undefined), undefined);
  assert.equal(pidsMax(10), '10');
  assert.equal(pidsMax(-1), 'max');
  assert.equal(pidsMax(0), 'max');
});

test('device rules become devices.allow lines and bad ones name the index', () => {
  assert.equal(deviceRuleLine({ allow: false, access: 'rwm' }, 0), 'a');
  assert.equal(deviceRuleLine({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, 1), 'c 1:3 rw');
  assert.equal(deviceRuleLine({ allow: true, type: 'b', major: 8, minor: null }, 2), 'b 8:* rwm');
  assert.throws(() => deviceRuleLine({ allow: true, type: 'x' }, 3), /devices\[3\]\.type/);
  assert.throws(() => deviceRuleLine({ allow: true, type: 'c', access: 'rwq' }, 4), /devices\[4\]\.access/);
});

test('device rules: an allow repeated since the last deny is dropped, one after a deny is kept', () => {
  const rule = (allow: boolean, line: string): { allow: boolean; line: string } => ({ allow, line });
  const kept = withoutRepeatedAllows([
    rule(false, 'a'), rule(true, 'c 1:3 rwm'), rule(true, 'c 1:5 rwm'), rule(true, 'c 1:3 rwm'),
    rule(false, 'c 1:3 rwm'), rule(true, 'c 1:3 rwm'), rule(true, 'c 1:5 rwm'),
  ]);
  assert.deepEqual(kept.map((r) => `${r.allow ? '+' : '-'}${r.line}`),
    ['-a', '+c 1:3 rwm', '+c 1:5 rwm', '-c 1:3 rwm', '+c 1:3 rwm', '+c 1:5 rwm']);
});
