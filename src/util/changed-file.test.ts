import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChangedFile } from './changed-file.js';

test('a file is read once while it stays the same, and again once it changed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-changed-file-'));
  try {
    const file = path.join(dir, 'resolv.conf');
    let reads = 0;
    const counted = async (f: string): Promise<string> => { reads++; return await readFile(f, 'utf8'); };
    const kept = new ChangedFile(file, { racyMs: -1, read: counted });
    assert.equal(await kept.read(), '');
    await writeFile(file, 'nameserver 10.0.0.1\n');
    assert.equal(await kept.read(), 'nameserver 10.0.0.1\n');
    assert.equal(await kept.read(), 'nameserver 10.0.0.1\n');
    assert.equal(reads, 1, 'kept while unchanged');
    await writeFile(file, 'nameserver 10.0.0.10\n');
    assert.equal(await kept.read(), 'nameserver 10.0.0.10\n');
    await writeFile(path.join(dir, 'next'), 'nameserver 10.9.9.99\n');
    await rename(path.join(dir, 'next'), file);
    assert.equal(await kept.read(), 'nameserver 10.9.9.99\n');
    await rm(file);
    assert.equal(await kept.read(), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file changed within the racy window is read at every call (a same-size write in the same tick)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-changed-file-'));
  try {
    const file = path.join(dir, 'resolv.conf');
    const kept = new ChangedFile(file);
    await writeFile(file, 'nameserver 10.0.0.1\n');
    assert.equal(await kept.read(), 'nameserver 10.0.0.1\n');
    await writeFile(file, 'nameserver 10.0.0.2\n');
    assert.equal(await kept.read(), 'nameserver 10.0.0.2\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
