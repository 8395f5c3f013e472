// bench/images/unpack: unpacking a multi-layer gzip image (many small files, a few large
// ones, symlinks) by berth's layer store (gunzip + hostile-input checks + metadata) against
// GNU tar extracting the same blobs (`tar -xzf`, one directory per layer), median of a few
// runs each, as a ratio measured in the same run.
// Same input, comparable work: both read the same gzip blobs (tar pipes them through a gzip
// process; berth inflates on its unpack worker thread, between writes of files). berth does more: it hashes the stream to verify the diff ID, checks every path, and writes and
// fsyncs layer.json before renaming the layer into place. Neither syncs the files' data.
// berth's layer store marks its unpack directory +T (ext4's Orlov allocator then puts each
// layer in a block group of its own); GNU tar into a +T directory of its own is timed too and
// printed beside the ratio, to show how much of the gap is placement and how much is code.
// One layer store serves every run, as berthd's does (its layers are removed between runs,
// untimed): berth's unpack worker thread is started by the first, uncounted run and stays, as
// in a daemon that unpacked within the last minute; that cold first run is printed apart.
// Run alone with `node dist/bench/images/unpack.js [runs]`.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, symlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { OverlaySnapshotter } from '../../src/store/snapshots/overlay-snapshotter.js';
import { NativeSnapshotter } from '../../src/store/snapshots/native-snapshotter.js';
import { directoryTar } from '../../src/store/snapshots/diff-layer.js';
import { chainIds } from '../../src/store/snapshots/snapshotter.js';
import { storeLayerTar, unpackLayers, type StoredLayer } from '../../src/daemon/images/layers.js';

export interface UnpackBenchResult {
  berthMs: number;
  tarMs: number;
  ratio: number;
  /** GNU tar into a +T directory (as berth's unpack directory), where the file system has the flag */
  tarTopDirMs: number | undefined;
  /** berth's first (uncounted) run: the unpack worker's start and cold JIT included */
  berthColdMs: number;
  layers: number;
  files: number;
  megabytes: number;
}

const TEXT = 'the quick brown fox jumps over the lazy dog; berth unpacks layers once each.\n'.repeat(200);

async function makeLayerTree(dir: string, layer: number): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const add = async (rel: string, data: Buffer): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), data);
    files++;
    bytes += data.length;
  };
  if (layer === 0) {
    for (let i = 0; i < 3000; i++) {
      const size = 512 + ((i * 7919) % 8192);
      await add(`usr/lib/pkg${i % 60}/file${i}.txt`, Buffer.from(TEXT.slice(0, size)));
    }
    for (let i = 0; i < 300; i++) await symlink(`../lib/pkg${i % 60}/file${i}.txt`, path.join(dir, `usr/lib/pkg${i % 60}`, `link${i}`));
  } else if (layer === 1) {
    for (let i = 0; i < 24; i++) await add(`opt/big/blob${i}.bin`, Buffer.concat([randomBytes(1 << 20), Buffer.from(TEXT.repeat(70))]));
  } else {
    for (let i = 0; i < 1500; i++) await add(`srv/app/node_modules/m${i % 150}/index${i}.js`, Buffer.from(TEXT.slice(0, 2000 + (i % 3000))));
    for (let i = 0; i < 4; i++) await add(`srv/app/data${i}.bin`, randomBytes(4 << 20));
  }
  return { files, bytes };
}

/** A directory with ext4's +T flag (chattr); false where the file system has no such flag. */
function markTop(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('chattr', ['+T', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function runUnpackBench(runs = 3): Promise<UnpackBenchResult | undefined> {
  if (process.getuid?.() !== 0) {
    console.log('bench/images/unpack: skipped (needs root for overlay layer directories)');
    return undefined;
  }
  const base = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-unpack-'));
  try {
    const content = new FileContentStore(path.join(base, 'content'));
    const layers: StoredLayer[] = [];
    let files = 0;
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      const tree = path.join(base, `tree${i}`);
      const made = await makeLayerTree(tree, i);
      files += made.files;
      bytes += made.bytes;
      layers.push(await storeLayerTar(content, path.join(base, 'tmp'), directoryTar(tree)));
      await rm(tree, { recursive: true, force: true });
    }
    const berth: number[] = [];
    const tar: number[] = [];
    const tarTop: number[] = [];
    let berthColdMs = 0;
    const snapRoot = path.join(base, 'snap');
    const snapshotter = process.env.BERTH_BENCH_DRIVER === 'native' ? new NativeSnapshotter(snapRoot) : new OverlaySnapshotter(snapRoot);
    const chain = chainIds(layers.map((l) => l.diffId));
    for (let run = -1; run < runs; run++) { // run -1 warms up the JIT and the page cache, not counted
      const timeBerth = async (): Promise<number> => {
        execFileSync('sync'); // start each side with no dirty pages of the other pending
        const start = performance.now();
        await unpackLayers(content, snapshotter, layers.map((l) => l.descriptor), layers.map((l) => l.diffId));
        const ms = performance.now() - start;
        for (const chainId of chain) await snapshotter.removeLayer(chainId);
        return ms;
      };
      const timeTar = (dir: string): number => {
        execFileSync('sync');
        const start = performance.now();
        for (const [i, layer] of layers.entries()) {
          // unique names, as berth's work directories (ext4 hashes a top directory's name to pick where to start)
          const out = path.join(dir, `${i}-${randomBytes(4).toString('hex')}`);
          mkdirSync(out, { recursive: true });
          execFileSync('tar', ['-xzf', content.blobPath(layer.descriptor.digest), '-C', out, '--same-owner', '--xattrs']);
        }
        return performance.now() - start;
      };
      // alternate the order so that neither side always runs on a disk busy with the other's writeback
      const [b, t] = run % 2 === 0 ? [await timeBerth(), timeTar(path.join(base, `tar${run}`))] : [timeTar(path.join(base, `tar${run}`)), await timeBerth()].reverse() as [number, number];
      const topDir = path.join(base, `tartop${run}`);
      const tt = markTop(topDir) ? timeTar(topDir) : undefined;
      if (run < 0) berthColdMs = b;
      if (run >= 0) {
        berth.push(b);
        tar.push(t);
        if (tt !== undefined) tarTop.push(tt);
      }
      for (const dir of [path.join(base, `tar${run}`), topDir]) await rm(dir, { recursive: true, force: true });
    }
    const result: UnpackBenchResult = {
      berthMs: median(berth), tarMs: median(tar), ratio: median(berth) / median(tar),
      tarTopDirMs: tarTop.length > 0 ? median(tarTop) : undefined, berthColdMs,
      layers: layers.length, files, megabytes: Math.round(bytes / (1 << 20)),
    };
    console.log(`bench/images/unpack: ${result.layers} layers, ${result.files} files, ${result.megabytes} MB: `
      + `berth ${result.berthMs.toFixed(0)} ms, GNU tar ${result.tarMs.toFixed(0)} ms, ratio berth/tar ${result.ratio.toFixed(2)} (lower is better; `
      + 'berth also verifies the blob and the diff ID)');
    console.log(`bench/images/unpack: berth's first unpack in the process (worker start-up, cold JIT; not counted) ${result.berthColdMs.toFixed(0)} ms`);
    if (result.tarTopDirMs !== undefined) {
      console.log(`bench/images/unpack: GNU tar into a +T directory (the placement berth's store uses) ${result.tarTopDirMs.toFixed(0)} ms, `
        + `berth/that ${(result.berthMs / result.tarTopDirMs).toFixed(2)}`);
    }
    return result;
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [runs] = process.argv.slice(2).map(Number);
  await runUnpackBench(runs || 3);
}
