// An overlay root prepared with durable: false (an --rm container's) is an ordinary root; the
// start-up sweep removes active directories whose record is missing or torn (a crash between
// prepare's mkdir and its record, or a power loss that took an unsynced record) and keeps
// the recorded ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { OverlaySnapshotter, mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { MNT_DETACH, umount } from '../../src/sys/fs-native.js';

test('overlay: durable:false roots mount; sweep removes unrecorded active dirs only', { skip: requires('root', 'overlay') }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-snap-sweep-'));
  const snapshotter = new OverlaySnapshotter(path.join(base, 'snapshots'));
  const active = path.join(base, 'snapshots', 'active');
  try {
    const kept = await snapshotter.prepare(`berth-kept-${process.pid}`, undefined);
    const quick = await snapshotter.prepare(`berth-quick-${process.pid}`, undefined, { durable: false });
    await writeFile(path.join(quick.root, 'probe'), 'x');
    assert.equal(await readFile(path.join(active, `berth-quick-${process.pid}`, 'upper', 'probe'), 'utf8'), 'x');
    // prepared again while mounted: the same root, not a second mount
    assert.equal((await snapshotter.prepare(`berth-quick-${process.pid}`, undefined)).root, quick.root);
    assert.equal((await mountPointsUnder(active + path.sep)).length, 2);

    // what a crash leaves: a directory without a record, and one with a torn (empty) record
    await mkdir(path.join(active, `berth-norecord-${process.pid}`, 'upper'), { recursive: true });
    await mkdir(path.join(active, `berth-torn-${process.pid}`, 'upper'), { recursive: true });
    await writeFile(path.join(active, `berth-torn-${process.pid}`, 'active.json'), '');

    await snapshotter.sweep();
    assert.deepEqual((await readdir(active)).sort(), [`berth-kept-${process.pid}`, `berth-quick-${process.pid}`]);
    assert.deepEqual(await mountPointsUnder(active + path.sep), []);
    assert.deepEqual((await snapshotter.listActive()).map((a) => a.key).sort(), [kept.key, quick.key].sort());
    // a swept (unmounted) root is mounted again by prepare, its upper intact
    const again = await snapshotter.prepare(quick.key, undefined);
    assert.equal(await readFile(path.join(again.root, 'probe'), 'utf8'), 'x');
    await snapshotter.remove(kept.key);
    await snapshotter.remove(quick.key);
    assert.deepEqual(await readdir(active), []);
  } finally {
    for (const target of await mountPointsUnder(base + path.sep)) umount(target, MNT_DETACH);
    await rm(base, { recursive: true, force: true });
  }
});
