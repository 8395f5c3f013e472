// The same suite against both snapshotters (containerd style): unpack, whiteouts in both
// forms, a container root, its diff re-applied as a layer, clean removal, no leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, lstat, writeFile, mkdir, unlink, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { writeTar, type TarWriteEntry } from '../../src/store/archive/tar-writer.js';
import { readTar } from '../../src/store/archive/tar-reader.js';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import { chainIds, type Snapshotter } from '../../src/store/snapshots/snapshotter.js';
import { OverlaySnapshotter, mountPointsUnder } from '../../src/store/snapshots/overlay-snapshotter.js';
import { NativeSnapshotter } from '../../src/store/snapshots/native-snapshotter.js';
import { getXattr } from '../../src/sys/fs-native.js';

const T = 1600000000;
const file = (name: string, data: string, extra: Partial<TarWriteEntry['header']> = {}): TarWriteEntry =>
  ({ header: { name, type: 'file', mode: 0o644, size: Buffer.byteLength(data), mtime: T, ...extra }, body: Buffer.from(data) });
const dir = (name: string): TarWriteEntry => ({ header: { name, type: 'dir', mode: 0o755, mtime: T } });
const wh = (name: string): TarWriteEntry => ({ header: { name, type: 'file', mode: 0, size: 0 } });

async function tarBytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of writeTar(entries)) out.push(c);
  return Buffer.concat(out);
}

async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const rel of (await readdir(root, { recursive: true })).sort()) {
    const st = await lstat(path.join(root, rel));
    const what = st.isSymbolicLink() ? `->${await readlink(path.join(root, rel))}` : st.isFile() ? await readFile(path.join(root, rel), 'utf8') : '';
    out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
  }
  return out;
}

function suite(name: string, make: (root: string) => Snapshotter, skip: string | false): void {
  test(`${name}: layers, whiteouts, a container root and its diff`, { skip }, async () => {
    const base = await mkdtemp(path.join(tmpdir(), `berth-snap-${name}-`));
    const snapshotter = make(path.join(base, 'snapshots'));
    try {
      const layer1 = await tarBytes([dir('etc/'), file('etc/a', 'A'), file('etc/b', 'B', { uid: 1000, gid: 1000, mode: 0o4755 }),
        dir('d/'), file('d/x', 'X'), file('f', 'F', { xattrs: new Map([['user.berth', Buffer.from('v')]]) }),
        { header: { name: 'etc/b2', type: 'hardlink', mode: 0, linkname: 'etc/b' } }]);
      const layer2 = await tarBytes([dir('etc/'), wh('etc/.wh.a'), dir('d/'), wh('d/.wh..wh..opq'), file('d/y', 'Y')]);
      const diffIds = [digestOf(layer1), digestOf(layer2)];
      const [c1, c2] = chainIds(diffIds) as [Digest, Digest];
      await snapshotter.unpackLayer(c1, undefined, diffIds[0]!, [layer1][Symbol.iterator]() as never);
      await snapshotter.unpackLayer(c2, c1, diffIds[1]!, (async function* () { yield layer2; })());
      assert.deepEqual((await snapshotter.listLayers()).map((l) => l.chainId).sort(), [c1, c2].sort());

      const key = `berth-test-${process.pid}`;
      const active = await snapshotter.prepare(key, c2);
      assert.deepEqual(await tree(active.root), [
        'd 755 0:0 ', 'd/y 644 0:0 Y', 'etc 755 0:0 ', 'etc/b 4755 1000:1000 B', 'etc/b2 4755 1000:1000 B', 'f 644 0:0 F']);
      assert.equal(getXattr(path.join(active.root, 'f'), 'user.berth')?.toString(), 'v');

      // changes in the container: add, modify, delete, replace a dir wholesale
      await writeFile(path.join(active.root, 'etc/new'), 'N');
      await writeFile(path.join(active.root, 'f'), 'F2');
      await unlink(path.join(active.root, 'etc/b2'));
      await rm(path.join(active.root, 'd'), { recursive: true });
      await mkdir(path.join(active.root, 'd'));
      await writeFile(path.join(active.root, 'd/z'), 'Z');
      const expected = await tree(active.root);

      const chunks: Buffer[] = [];
      for await (const c of snapshotter.diff(key)) chunks.push(c);
      const diffTar = Buffer.concat(chunks);
      const names: string[] = [];
      for await (const e of readTar([diffTar])) names.push(e.header.name);
      assert.ok(names.includes('etc/.wh.b2'), `whiteout for the deleted file in ${names.join(',')}`);
      assert.ok(!names.includes('etc/b'), 'unchanged file not in the diff');

      const c3 = chainIds([...diffIds, digestOf(diffTar)])[2]!;
      await snapshotter.unpackLayer(c3, c2, digestOf(diffTar), [diffTar][Symbol.iterator]() as never);
      const check = await snapshotter.prepare(`${key}-check`, c3);
      assert.deepEqual(await tree(check.root), expected);

      // a wrong diff ID keeps nothing
      await assert.rejects(snapshotter.unpackLayer(digestOf('x'), c1, digestOf('not it'), [layer2][Symbol.iterator]() as never), /expected diff ID/);
      assert.equal(await snapshotter.hasLayer(digestOf('x')), false);

      await snapshotter.remove(key);
      await snapshotter.remove(`${key}-check`);
      assert.deepEqual(await snapshotter.listActive(), []);
      assert.deepEqual(await readdir(path.join(base, 'snapshots', 'active')), [], 'the roots\' directories are gone');
      assert.deepEqual(await mountPointsUnder(base), [], 'no mounts left');
      for (const l of [c3, c2, c1]) await snapshotter.removeLayer(l);
      assert.deepEqual(await snapshotter.listLayers(), []);

      // a chain mounted before (overlay keeps its lower dirs) is read anew once its layers went
      await assert.rejects(snapshotter.prepare(`${key}-gone`, c2), /is not unpacked/);
      await snapshotter.remove(`${key}-gone`);
      await snapshotter.unpackLayer(c1, undefined, diffIds[0]!, [layer1][Symbol.iterator]() as never);
      await snapshotter.unpackLayer(c2, c1, diffIds[1]!, [layer2][Symbol.iterator]() as never);
      const again = await snapshotter.prepare(`${key}-again`, c2);
      assert.ok((await tree(again.root)).includes('d/y 644 0:0 Y'), 'the chain unpacked again is mounted');
      await snapshotter.remove(`${key}-again`);
      for (const l of [c2, c1]) await snapshotter.removeLayer(l);
      assert.deepEqual(await mountPointsUnder(base), [], 'no mounts left');
    } finally {
      for (const m of await mountPointsUnder(base)) await import('../../src/sys/fs-native.js').then((n) => n.umount(m, n.MNT_DETACH));
      await rm(base, { recursive: true, force: true });
    }
  });
}

suite('overlay', (root) => new OverlaySnapshotter(root), requires('root', 'overlay'));
suite('native', (root) => new NativeSnapshotter(root), requires('root'));

test('overlay: sweep unmounts leftovers after a crash', { skip: requires('root', 'overlay') }, async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'berth-snap-sweep-'));
  try {
    const first = new OverlaySnapshotter(path.join(base, 's'));
    await first.prepare(`berth-sweep-${process.pid}`, undefined);
    assert.equal((await mountPointsUnder(base)).length, 1);
    const restarted = new OverlaySnapshotter(path.join(base, 's'));
    await restarted.sweep();
    assert.deepEqual(await mountPointsUnder(base), []);
    const again = await restarted.prepare(`berth-sweep-${process.pid}`, undefined);
    assert.equal((await mountPointsUnder(base)).length, 1, 'prepare mounts it again');
    assert.ok(again.root.endsWith('merged'));
    await restarted.remove(`berth-sweep-${process.pid}`);
    assert.deepEqual(await mountPointsUnder(base), []);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
