import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../errors/berth-error.js';
import { StateStore } from './state-store.js';

test('claim makes a missing root once, then refuses an id already taken', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-state-store-'));
  try {
    const store = new StateStore(path.join(dir, 'not', 'yet'));
    assert.equal(await store.claim('first'), path.join(dir, 'not', 'yet', 'first'));
    assert.ok(existsSync(store.dir('first')));
    await store.claim('second');
    await assert.rejects(store.claim('first'), (err: unknown) => err instanceof BerthError && err.code === 'CONTAINER_EXISTS' && err.message.includes('first'));
    // the root removed under the store: the next claim makes it again
    await rm(store.root, { recursive: true });
    await store.claim('third');
    assert.ok(existsSync(store.dir('third')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('exit is undefined until the shim writes exit.json, then read and validated', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-state-store-'));
  try {
    const store = new StateStore(dir);
    await store.claim('c1');
    assert.equal(await store.exit('c1'), undefined);
    writeFileSync(store.exitPath('c1'), '{"exitCode":3,"signal":0}');
    assert.deepEqual(await store.exit('c1'), { exitCode: 3, signal: 0 });
    writeFileSync(store.exitPath('c1'), '{"exitCode":"x"}');
    assert.equal(await store.exit('c1'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('load answers a record this store saved, and not found once its file is gone, whoever removed it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-state-store-'));
  try {
    const store = new StateStore(dir);
    await store.claim('c2');
    const record = {
      id: 'c2', ociVersion: '1.2.0', bundle: '/b', rootfs: '/b/rootfs', pid: 1, pidStartTime: '1', created: new Date(0).toISOString(),
      cgroupsPath: '/berth/c2', namespaces: ['pid' as const],
    };
    await store.save(record);
    assert.deepEqual(await store.load('c2'), record);
    // another process (a second runtime on the same root) deletes the container
    await rm(store.dir('c2'), { recursive: true });
    await assert.rejects(store.load('c2'), (err: unknown) => err instanceof BerthError && err.code === 'NO_SUCH_CONTAINER');
    // a record changed on disk by another writer is read and validated again
    await store.claim('c2');
    await store.save(record);
    await store.remove('c2');
    await store.claim('c2');
    writeFileSync(path.join(store.dir('c2'), 'state.json'), '{"id":"c2"}');
    await assert.rejects(store.load('c2'), (err: unknown) => err instanceof BerthError && err.code === 'CORRUPT_STATE');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
