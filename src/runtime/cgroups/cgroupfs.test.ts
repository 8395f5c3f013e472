import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../errors/berth-error.js';
import { makeDirectories, parseBlkioV1, parseKeyValues, parseLimit, parsePidList, writeControlSequence } from './cgroupfs.js';

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

test('makeDirectories reports exactly the directories it made, outermost first', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-cgroupfs-'));
  try {
    assert.deepEqual(makeDirectories(path.join(root, 'a')), [path.join(root, 'a')]);
    assert.deepEqual(makeDirectories(path.join(root, 'a')), [], 'an existing directory is reused, not made');
    assert.deepEqual(makeDirectories(path.join(root, 'a/b/c')), [path.join(root, 'a/b'), path.join(root, 'a/b/c')]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('writeControlSequence writes in order through one open file each and names a failing file', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-cgroupfs-'));
  try {
    writeControlSequence(root, [['devices.deny', 'a'], ['devices.allow', 'c 1:3 rwm'], ['devices.allow', 'c 1:5 rwm']]);
    // a regular file keeps every write (cgroupfs takes each write as one rule)
    assert.equal(await readFile(path.join(root, 'devices.allow'), 'utf8'), 'c 1:3 rwmc 1:5 rwm');
    assert.equal(await readFile(path.join(root, 'devices.deny'), 'utf8'), 'a');
    assert.throws(() => { writeControlSequence(path.join(root, 'missing'), [['devices.allow', 'a']]); },
      (err: unknown) => err instanceof BerthError && err.code === 'CGROUP_WRITE_FAILED' && err.message.includes('missing/devices.allow'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
