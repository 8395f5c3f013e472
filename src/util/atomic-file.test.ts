import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeJsonAtomic } from './atomic-file.js';

test('writeJsonAtomic replaces the file and leaves no temp files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-atomic-'));
  try {
    const file = path.join(dir, 'sub', 'state.json');
    await writeJsonAtomic(file, { a: 1 });
    await writeJsonAtomic(file, { a: 2 }, 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { a: 2 });
    assert.deepEqual(await readdir(path.dirname(file)), ['state.json']);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
