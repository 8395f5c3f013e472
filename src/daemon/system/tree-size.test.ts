import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { treeSize } from './tree-size.js';

test('treeSize counts files and directories, hard links once, and leaves skipped subtrees out', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-size-'));
  try {
    await mkdir(path.join(dir, 'a', 'deep'), { recursive: true });
    await mkdir(path.join(dir, 'b'));
    await writeFile(path.join(dir, 'a', 'deep', 'f'), Buffer.alloc(10_000));
    await link(path.join(dir, 'a', 'deep', 'f'), path.join(dir, 'a', 'hard'));
    await writeFile(path.join(dir, 'b', 'g'), Buffer.alloc(3_000));
    const dirBytes = (await stat(dir)).size;
    const aBytes = (await stat(path.join(dir, 'a'))).size + (await stat(path.join(dir, 'a', 'deep'))).size;
    const bBytes = (await stat(path.join(dir, 'b'))).size;
    assert.equal(await treeSize(dir), dirBytes + aBytes + bBytes + 10_000 + 3_000);
    assert.equal(await treeSize(dir, { skip: new Set([path.join(dir, 'b')]) }), dirBytes + aBytes + 10_000);
    // two walks sharing `seen` split the tree without counting anything twice
    const seen = new Set<string>();
    const parts = await treeSize(path.join(dir, 'a'), { seen }) + await treeSize(dir, { seen, skip: new Set([path.join(dir, 'a')]) });
    assert.equal(parts, await treeSize(dir));
    assert.equal(await treeSize(path.join(dir, 'missing')), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
