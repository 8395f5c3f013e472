import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBlkioV1, parseKeyValues, parseLimit, parsePidList } from './cgroupfs.js';

test('parseLimit: numbers, "max" and the kernel\'s huge "unlimited" values', () => {
  assert.equal(parseLimit('67108864'), 67108864);
  assert.equal(parseLimit('max'), null);
  assert.equal(parseLimit('9223372036854771712'), null);
  assert.equal(parseLimit(undefined), null);
  assert.equal(parseLimit('garbage'), null);
});

test('key/value and pid lists', () => {
  assert.deepEqual(parseKeyValues('cache 10\nrss 20\nbad line here\n'), { cache: 10, rss: 20 });
  assert.deepEqual(parsePidList('12\n\n34\nx\n'), [12, 34]);
});

test('parseBlkioV1 merges the bytes and ops files per device and skips totals', () => {
  const bytes = '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n';
  const ops = '8:0 Read 1\n8:0 Write 2\n8:16 Read 7\n';
  assert.deepEqual(parseBlkioV1(bytes, ops), [
    { major: 8, minor: 0, readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 },
    { major: 8, minor: 16, readBytes: 0, writeBytes: 0, readOps: 7, writeOps: 0 },
  ]);
  assert.deepEqual(parseBlkioV1(undefined, undefined), []);
});
