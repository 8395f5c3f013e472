// Layers unpacked at once and committed in chain order: a child waits for its parent before it
// is put in place, a failed or missing parent leaves no child behind, and unpackLayers reports
// the lowest failing layer. The store's unpack directory carries ext4's +T where it can.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTar, type TarWriteEntry } from '../../src/store/archive/tar-writer.js';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import { chainIds } from '../../src/store/snapshots/snapshotter.js';
import { OverlaySnapshotter } from '../../src/store/snapshots/overlay-snapshotter.js';
import { NativeSnapshotter } from '../../src/store/snapshots/native-snapshotter.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { storeLayerTar, unpackLayers } from '../../src/daemon/images/layers.js';
import { BerthError } from '../../src/errors/berth-error.js';

const T = 1600000000;
const file = (name: string, data: string): TarWriteEntry =>
  ({ header: { name, type: 'file', mode: 0o644, size: Buffer.byteLength(data), mtime: T }, body: Buffer.from(data) });

async function tarBytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of writeTar(entries)) out.push(c);
  return Buffer.concat(out);
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

async function withBase(name: string, body: (base: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(path.join(tmpdir(), `berth-unpack-${name}-${process.pid}-`));
  try {
    await body(base);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

const layerA = await tarBytes([file('a', 'A')]);
const layerB = await tarBytes([file('b', 'B')]);
const [chainA, chainB] = chainIds([digestOf(layerA), digestOf(layerB)]) as [Digest, Digest];

test('a child unpacked beside its parent is put in place only after the parent', async () => {
  await withBase('order', async (base) => {
    const snapshotter = new OverlaySnapshotter(path.join(base, 's'));
    let release!: () => void;
    const parentCommitted = new Promise<void>((resolve) => { release = resolve; });
    let childDone = false;
    const child = snapshotter.unpackLayer(chainB, chainA, digestOf(layerB), once(layerB), { parentCommitted })
      .finally(() => { childDone = true; });
    // the child is unpacked and verified meanwhile, but waits for its parent
    for (let i = 0; i < 50 && (await readdir(path.join(base, 's', 'tmp')).catch(() => [])).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(childDone, false);
    assert.equal(await snapshotter.hasLayer(chainB), false, 'child not committed before its parent');
    await snapshotter.unpackLayer(chainA, undefined, digestOf(layerA), once(layerA));
    release();
    const info = await child;
    assert.equal(info.parent, chainA);
    assert.equal(await readFile(path.join(snapshotter.layerFs(chainB), 'b'), 'utf8'), 'B');
    assert.deepEqual(await readdir(path.join(base, 's', 'tmp')), [], 'no work directory left');
  });
});

test('a failed or missing parent leaves no child layer', async () => {
  await withBase('parent-failed', async (base) => {
    const snapshotter = new OverlaySnapshotter(path.join(base, 's'));
    const failure = new Error('parent went wrong');
    await assert.rejects(snapshotter.unpackLayer(chainB, chainA, digestOf(layerB), once(layerB), { parentCommitted: Promise.reject(failure) }),
      (err) => err === failure);
    // the parent "succeeded" but is not there: refused by name
    await assert.rejects(snapshotter.unpackLayer(chainB, chainA, digestOf(layerB), once(layerB), { parentCommitted: Promise.resolve() }),
      (err) => err instanceof BerthError && err.code === 'LAYER_NOT_FOUND' && err.message.includes(chainA));
    assert.equal(await snapshotter.hasLayer(chainB), false);
    assert.deepEqual(await snapshotter.listLayers(), []);
    assert.deepEqual(await readdir(path.join(base, 's', 'tmp')), [], 'no work directory left');
  });
});

test('unpackLayers: a bad lower layer fails the pull with its own error and commits nothing above it', async () => {
  await withBase('bad-lower', async (base) => {
    const content = new FileContentStore(path.join(base, 'content'));
    const stored = [
      await storeLayerTar(content, path.join(base, 'tmp'), once(layerA)),
      await storeLayerTar(content, path.join(base, 'tmp'), once(layerB)),
      await storeLayerTar(content, path.join(base, 'tmp'), once(await tarBytes([file('c', 'C')]))),
    ];
    const descriptors = stored.map((s) => s.descriptor);
    const wrongDiffIds = [digestOf('not layer A'), ...stored.slice(1).map((s) => s.diffId)];
    for (const snapshotter of [new OverlaySnapshotter(path.join(base, 'overlay')), new NativeSnapshotter(path.join(base, 'native'))]) {
      await assert.rejects(unpackLayers(content, snapshotter, descriptors, wrongDiffIds),
        (err) => err instanceof BerthError && err.code === 'DIFF_ID_MISMATCH' && err.message.includes(chainIds(wrongDiffIds)[0] as string));
      assert.deepEqual(await snapshotter.listLayers(), [], `${snapshotter.driver}: no layer committed`);
      // the right diff IDs then unpack all three, in chain order
      const events: string[] = [];
      const top = await unpackLayers(content, snapshotter, descriptors, stored.map((s) => s.diffId), (l, state) => events.push(`${l.digest}:${state}`));
      assert.equal(top, chainIds(stored.map((s) => s.diffId))[2]);
      assert.deepEqual(events, descriptors.map((d) => `${d.digest}:unpacked`));
      assert.equal((await snapshotter.listLayers()).length, 3);
      assert.deepEqual(await readdir(path.join(base, snapshotter.driver, 'tmp')), [], `${snapshotter.driver}: no work directory left`);
    }
  });
});

test('the unpack directory is marked +T where the file system has the flag', async (t) => {
  await withBase('topdir', async (base) => {
    const lsattr = (dir: string): string =>
      execFileSync('lsattr', ['-d', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(' ')[0] ?? '';
    try {
      await mkdir(path.join(base, 'probe'));
      execFileSync('chattr', ['+T', path.join(base, 'probe')], { stdio: 'ignore' });
      assert.match(lsattr(path.join(base, 'probe')), /T/);
    } catch {
      t.skip('no +T flag on this file system');
      return;
    }
    const snapshotter = new OverlaySnapshotter(path.join(base, 's'));
    await snapshotter.unpackLayer(chainA, undefined, digestOf(layerA), once(layerA));
    assert.match(lsattr(path.join(base, 's', 'tmp')), /T/);
    assert.doesNotMatch(lsattr(snapshotter.layerFs(chainA)), /T/, 'the flag is not inherited by the layers');
  });
});
