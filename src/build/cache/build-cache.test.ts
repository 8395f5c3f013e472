import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildCache } from './build-cache.js';

const step = (n: number): { parent: string; instruction: string; definition: string; inputs: Map<string, string> } =>
  ({ parent: 'sha256:p', instruction: `RUN ${n}`, definition: `RUN ${n}`, inputs: new Map() });

async function cacheOfThree(dir: string, maxBytes?: number): Promise<BuildCache> {
  const cache = await BuildCache.open(dir, maxBytes);
  for (const n of [1, 2, 3]) {
    await cache.record(step(n), `sha256:image${n}`, 100);
    await new Promise((r) => setTimeout(r, 5));
  }
  // step 1 is used again, so step 2 is now the least recently used
  const entry = cache.lookup(step(1));
  assert.ok(entry);
  cache.touch(entry);
  return cache;
}

test('pruning keeps the most recently used entries: the oldest go first', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cache-test-'));
  try {
    const cache = await cacheOfThree(dir);
    const removed = await cache.prune({ all: true, keepBytes: 150 });
    assert.deepEqual(removed.map((e) => e.instruction), ['RUN 2', 'RUN 3']);
    assert.ok(cache.lookup(step(1)));
    const reopened = await BuildCache.open(dir);
    assert.equal(reopened.count, 1, 'the removal is on disk');
    assert.ok((reopened.lookup(step(1))?.lastUsed ?? 0) < (cache.lookup(step(1))?.lastUsed ?? 0), 'an unflushed use is not on disk');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the configured cap prunes by LRU; until and eligibility limit what may go', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cache-test-'));
  try {
    const capped = await cacheOfThree(path.join(dir, 'a'), 250);
    assert.deepEqual((await capped.prune()).map((e) => e.instruction), ['RUN 2']);
    const cache = await cacheOfThree(path.join(dir, 'b'));
    const entry3 = cache.lookup(step(3));
    assert.ok(entry3);
    assert.deepEqual((await cache.prune({ all: true, usedBefore: entry3.lastUsed })).map((e) => e.instruction), ['RUN 2'], 'until: only entries unused since then');
    assert.deepEqual((await cache.prune({ all: true, eligible: (e) => e.imageId !== 'sha256:image1' })).map((e) => e.instruction), ['RUN 3']);
    assert.equal(cache.count, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a flushed use survives a reopen (as the entry file mtime), and beats a newer entry', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cache-test-'));
  try {
    const cache = await cacheOfThree(dir);
    await cache.flush();
    const used = cache.lookup(step(1))?.lastUsed;
    const reopened = await BuildCache.open(dir);
    assert.equal(reopened.lookup(step(1))?.lastUsed, used);
    assert.deepEqual((await reopened.prune({ all: true, keepBytes: 150 })).map((e) => e.instruction), ['RUN 2', 'RUN 3']);
    await reopened.flush(); // entries pruned since their use: nothing to do, no error
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
