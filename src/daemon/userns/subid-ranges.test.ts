import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { firstFreeBlock, parseSubidFile, rangesOf, readUserRanges, SubidAllocator } from './subid-ranges.js';

test('subuid lines parse by name and uid; malformed lines name the line', () => {
  const entries = parseSubidFile('# comment\nberth:100000:65536\n1001:300000:131072\n\nberth:500000:65536\n', '/etc/subuid');
  assert.deepEqual(rangesOf(entries, { name: 'berth', uid: 1001 }), [
    { start: 100000, count: 65536 }, { start: 300000, count: 131072 }, { start: 500000, count: 65536 }]);
  assert.throws(() => parseSubidFile('berth:100000\n', '/etc/subuid'), /\/etc\/subuid line 1: "berth:100000"/);
  assert.throws(() => parseSubidFile('ok:1:1\nberth:x:1\n', '/etc/subgid'), /line 2/);
  assert.throws(() => parseSubidFile('berth:4294967295:2\n', 'f'), /32-bit/);
  assert.throws(() => parseSubidFile('berth:1:0\n', 'f'), /not owner:start:count/);
});

test('missing file, missing user and too small a range are clear errors', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-subid-'));
  try {
    const file = path.join(dir, 'subuid');
    await assert.rejects(readUserRanges(file, { name: 'berth', uid: 5 }, 65536), /subuid does not exist/);
    await writeFile(file, 'other:100000:65536\nsmall:200000:1000\n');
    await assert.rejects(readUserRanges(file, { name: 'berth', uid: 5 }, 65536), /no range for berth/);
    await assert.rejects(readUserRanges(file, { name: 'small', uid: 6 }, 65536), /no range of small holds 65536 ids \(largest 1000\)/);
    assert.deepEqual(await readUserRanges(file, { name: 'other', uid: 7 }, 65536), [{ start: 100000, count: 65536 }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('free blocks skip used ones and never cross a range end', () => {
  const ranges = [{ start: 1000, count: 300 }, { start: 5000, count: 100 }];
  assert.equal(firstFreeBlock(ranges, [], 100), 1000);
  assert.equal(firstFreeBlock(ranges, [{ start: 1000, size: 100 }, { start: 1150, size: 100 }], 100), 5000);
  assert.equal(firstFreeBlock(ranges, [{ start: 1100, size: 100 }], 100), 1000);
  assert.equal(firstFreeBlock(ranges, [{ start: 1000, size: 300 }, { start: 5000, size: 100 }], 100), undefined);
});

test('allocations are disjoint, persisted, reused per container and freed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-subid-'));
  try {
    const state = path.join(dir, 'subids.json');
    const uids = [{ start: 100000, count: 65536 * 2 }];
    const gids = [{ start: 200000, count: 65536 * 2 }];
    const alloc = await SubidAllocator.open(state, uids, gids);
    const [a, b] = await Promise.all([alloc.allocate('a'.repeat(64)), alloc.allocate('b'.repeat(64))]);
    const starts = [a.uidMappings[0]?.hostID, b.uidMappings[0]?.hostID].sort();
    assert.deepEqual(starts, [100000, 165536]);
    assert.equal(a.uidMappings[0]?.containerID, 0);
    assert.notEqual(a.gidMappings[0]?.hostID, b.gidMappings[0]?.hostID);
    await assert.rejects(alloc.allocate('c'.repeat(64)), /no free block of 65536 subordinate uids left for container cccccccccccc/);
    const reopened = await SubidAllocator.open(state, uids, gids);
    assert.deepEqual(await reopened.allocate('a'.repeat(64)), a, 'the same block after a restart');
    await reopened.release('a'.repeat(64));
    assert.deepEqual(await reopened.allocate('c'.repeat(64)), a, 'a freed block is handed out again');
    assert.equal(reopened.inUse().size, 2);
    await writeFile(state, '{"version":1,"allocations":{"x":{"uid":-1,"gid":0,"size":1}}}');
    await assert.rejects(SubidAllocator.open(state, uids, gids), /subids\.json: not a berth subordinate id allocation file/);
    await writeFile(state, '{"version":1,');
    await assert.rejects(SubidAllocator.open(state, uids, gids), /subids\.json: not valid JSON/);
    assert.ok((await readFile(state, 'utf8')).length > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
