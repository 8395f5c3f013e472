import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listActiveRecords, parseActiveRecord, readActiveRecord } from './active-records.js';

const PARENT = `sha256:${'a'.repeat(64)}`;

test('parseActiveRecord keeps key, parent and createdAt and rejects a record of another key or a bad parent', () => {
  assert.deepEqual(parseActiveRecord({ key: 'k1', parent: PARENT, createdAt: 5 }, 'k1', '/r'), { key: 'k1', root: '/r', createdAt: 5, parent: PARENT });
  assert.deepEqual(parseActiveRecord({ key: 'k1' }, 'k1', '/r'), { key: 'k1', root: '/r', createdAt: 0 });
  assert.throws(() => parseActiveRecord({ key: 'other' }, 'k1', '/r'), /snapshot k1: bad active.json/);
  assert.throws(() => parseActiveRecord({ key: 'k1', parent: 'nope' }, 'k1', '/r'), /snapshot k1: bad parent/);
  assert.throws(() => parseActiveRecord(null, 'k1', '/r'), /bad active.json/);
});

test('readActiveRecord and listActiveRecords: missing is not_found, garbage is skipped by the listing', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-active-'));
  try {
    await mkdir(path.join(dir, 'good'));
    await writeFile(path.join(dir, 'good', 'active.json'), JSON.stringify({ key: 'good', parent: PARENT, createdAt: 1 }));
    await mkdir(path.join(dir, 'garbage'));
    await writeFile(path.join(dir, 'garbage', 'active.json'), '{"key": "garb');
    await mkdir(path.join(dir, 'half-made'));
    assert.equal((await readActiveRecord(dir, 'good', 'merged')).root, path.join(dir, 'good', 'merged'));
    await assert.rejects(readActiveRecord(dir, 'garbage', 'fs'), /active.json is not JSON/);
    await assert.rejects(readActiveRecord(dir, 'half-made', 'fs'), (err: Error & { kind?: string }) => err.kind === 'not_found');
    await assert.rejects(readActiveRecord(dir, '../escape', 'fs'), /invalid snapshot key/);
    assert.deepEqual((await listActiveRecords(dir, 'fs')).map((s) => s.key), ['good']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
