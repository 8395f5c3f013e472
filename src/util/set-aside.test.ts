import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setAside, setAsideEntries } from './set-aside.js';

test('setAside renames with a UTC stamp and setAsideEntries finds only such names', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-aside-'));
  try {
    await writeFile(path.join(dir, 'rec.json'), '{garbage');
    await writeFile(path.join(dir, 'ok.json'), '{}');
    const moved = await setAside(path.join(dir, 'rec.json'), new Date('2026-11-28T01:02:03.456Z'));
    assert.equal(moved, path.join(dir, 'rec.json.corrupt-20261128T010203Z'));
    assert.equal(await readFile(moved, 'utf8'), '{garbage');
    assert.deepEqual(await setAsideEntries(dir), [moved]);
    assert.deepEqual(await setAsideEntries(path.join(dir, 'absent')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
