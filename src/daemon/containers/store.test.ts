import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContainerStore } from './store.js';
import { initialState, type ContainerRecord } from './record.js';

const rec = (id: string, name: string): ContainerRecord => ({
  Id: id, Created: '', Path: 'sh', Args: [], Name: name, Image: 'sha256:x', Config: {}, HostConfig: {}, State: initialState(),
  RestartCount: 0, ManuallyStopped: false, Runtime: 'berth', CgroupsPath: '/berth/x', ExecIDs: [],
});

test('names, prefixes and persistence; a corrupt record is reported, not fatal', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(dir);
    await store.load();
    await store.save(rec('ab' + '1'.repeat(62), '/one'));
    await store.save(rec('ab' + '2'.repeat(62), '/two'));
    assert.equal(store.resolve('one').Name, '/one');
    assert.equal(store.resolve('ab2').Name, '/two');
    assert.throws(() => store.resolve('ab'), /multiple containers found with provided prefix: ab/);
    assert.throws(() => store.resolve('zz'), /No such container: zz/);
    assert.throws(() => store.reserveName('/one', 'c'.repeat(64)), /is already in use/);
    assert.throws(() => store.reserveName('bad name', 'c'.repeat(64)), /Invalid container name/);
    const corrupt = 'cd' + '3'.repeat(62);
    await mkdir(path.join(dir, corrupt));
    await writeFile(path.join(dir, corrupt, 'config.v2.json'), '{"Id": 1}');
    const again = new ContainerStore(dir);
    const warnings = await again.load();
    assert.equal(again.all().length, 2);
    assert.deepEqual(warnings.map((w) => w.id), [corrupt]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
