import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContainerStore } from './store.js';
import { initialState, type ContainerRecord } from './record.js';

const rec = (id: string, name: string): ContainerRecord => ({
  Id: id, Created: '', Path: 'sh', Args: [], Name: name, Image: 'sha256:x', Config: {}, HostConfig: {}, State: initialState(),
  RestartCount: 0, ManuallyStopped: false, Runtime: 'berth', CgroupsPath: '/berth/x', ExecIDs: [],
});

test('names, prefixes and persistence; a corrupt record is reported and set aside, not fatal', async () => {
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
    assert.match(warnings[0]?.message ?? '', /corrupt record config\.v2\.json \(Id: .*set aside as .*\.corrupt-\d{8}T\d{6}Z/);
    assert.deepEqual(again.setAsideIds, [corrupt]);
    const entries = await readdir(dir);
    assert.ok(!entries.includes(corrupt), 'the corrupt record left its place');
    assert.equal(entries.filter((e) => e.startsWith(`${corrupt}.corrupt-`)).length, 1);
    // truncated JSON is set aside too, and a second load finds nothing more to move
    const truncated = 'ef' + '4'.repeat(62);
    await mkdir(path.join(dir, truncated));
    await writeFile(path.join(dir, truncated, 'config.v2.json'), '{"Id": "ef');
    const third = new ContainerStore(dir);
    assert.deepEqual((await third.load()).map((w) => w.id), [truncated]);
    assert.equal(third.all().length, 2);
    const fourth = new ContainerStore(dir);
    assert.deepEqual(await fourth.load(), []);
    assert.deepEqual(fourth.setAsideIds.sort(), [corrupt, truncated].sort(), 'records set aside earlier are still known');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('remove with purgeLater: gone from index and disk at once; a crash\'s leftover is swept by load', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(dir);
    await store.load();
    const id = 'ab' + '5'.repeat(62);
    await store.save(rec(id, '/quick'));
    await writeFile(path.join(dir, id, 'hosts'), 'x');
    const purges: Array<Promise<void>> = [];
    await store.remove(rec(id, '/quick'), { purgeLater: (purge) => purges.push(purge) });
    assert.equal(store.get(id), undefined);
    assert.equal(store.hasName('quick'), false);
    assert.ok(!(await readdir(dir)).includes(id), 'the record left its place before the purge ran');
    assert.equal(purges.length, 1);
    await Promise.all(purges);
    assert.deepEqual(await readdir(dir), []);
    // a purge a crash cut short: the renamed directory goes at the next load, nothing is loaded from it
    await mkdir(path.join(dir, `.removed-${id}-0badc0de`));
    await writeFile(path.join(dir, `.removed-${id}-0badc0de`, 'config.v2.json'), JSON.stringify(rec(id, '/quick')));
    const again = new ContainerStore(dir);
    assert.deepEqual(await again.load(), []);
    assert.equal(again.all().length, 0);
    assert.deepEqual(await readdir(dir), []);
    // removing a container whose directory is already gone is not an error
    await again.remove(rec(id, '/quick'), { purgeLater: () => assert.fail('nothing to purge') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('saves nobody waited for land in order, and never after the removal that followed them', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(dir);
    await store.load();
    const id = 'ab' + '6'.repeat(62);
    await store.save(rec(id, '/late'));
    // three run-state changes in a row, none awaited (as start answers before its record is written)
    const first = store.save({ ...rec(id, '/late'), RestartCount: 1 }, { durable: false });
    const second = store.save({ ...rec(id, '/late'), RestartCount: 2 }, { durable: false });
    await Promise.all([first, second]);
    const reloaded = new ContainerStore(dir);
    await reloaded.load();
    assert.equal(reloaded.get(id)?.RestartCount, 2, 'the last save is the one on disk');
    // a save still queued when the removal comes is dropped, so the directory is not made again
    const late = store.save({ ...rec(id, '/late'), RestartCount: 3 }, { durable: false });
    const purges: Array<Promise<void>> = [];
    await store.remove(rec(id, '/late'), { purgeLater: (purge) => purges.push(purge) });
    await late;
    await store.written(id);
    await Promise.all(purges);
    assert.deepEqual(await readdir(dir), [], 'nothing revived the removed record');
    assert.equal(store.get(id), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('add makes the directory (0710) and the record in the queue: a removal right after leaves nothing', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-store-'));
  try {
    const store = new ContainerStore(dir);
    await store.load();
    const id = 'ab' + '7'.repeat(62);
    const adding = store.add(rec(id, '/new'), { durable: false });
    assert.equal(store.resolve('new').Id, id, 'known at once, before the disk has it');
    await adding;
    assert.equal((await stat(path.join(dir, id))).mode & 0o777, 0o710);
    const reloaded = new ContainerStore(dir);
    await reloaded.load();
    assert.equal(reloaded.get(id)?.Name, '/new');
    const other = 'ab' + '8'.repeat(62);
    const late = store.add(rec(other, '/gone'), { durable: false });
    await store.remove(rec(other, '/gone'));
    await late;
    assert.deepEqual(await readdir(dir), [id], 'the removed container\'s directory was not made after its removal');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
