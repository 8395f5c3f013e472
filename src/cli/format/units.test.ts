import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ago, bytesSize, goTime, humanDuration, humanSize, parseGoDuration, parseRamSize } from './units.js';

test('humanSize and bytesSize print as go-units', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1_982_464), '1.98MB');
  assert.equal(humanSize(1_982_464, 4), '1.982MB');
  assert.equal(humanSize(5_580), '5.58kB');
  assert.equal(bytesSize(327_680), '320KiB');
  assert.equal(bytesSize(25_275_719_680), '23.54GiB');
});

test('humanDuration follows docker thresholds', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(3000), '3 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3600_000), 'About an hour');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
  assert.equal(humanDuration(3 * 86400_000), '3 days');
  assert.equal(humanDuration(20 * 86400_000), '2 weeks');
  assert.equal(humanDuration(90 * 86400_000), '3 months');
  assert.equal(humanDuration(800 * 86400_000), '2 years');
  assert.equal(ago(100, 103_000), '3 seconds ago');
  assert.equal(goTime(0), '1970-01-01 00:00:00 +0000 UTC');
});

test('parseRamSize accepts docker sizes and rejects bad suffixes in docker words', () => {
  assert.equal(parseRamSize('512'), 512);
  assert.equal(parseRamSize('64m'), 64 * 1024 * 1024);
  assert.equal(parseRamSize('1g'), 1024 ** 3);
  assert.equal(parseRamSize('2KB'), 2048);
  assert.equal(parseRamSize('1.5k'), 1536);
  assert.throws(() => parseRamSize('12xb'), /invalid suffix: 'xb'/);
  assert.throws(() => parseRamSize('abc'), /invalid size: 'abc'/);
});

test('parseGoDuration reads Go durations in milliseconds', () => {
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('2h'), 7_200_000);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('10x'), /time: invalid duration "10x"/);
  assert.throws(() => parseGoDuration(''), /invalid duration/);
});
