// bench/userns: what user namespaces cost, as ratios measured in the same run.
// Sections run in order; each starts and stops its own daemons and prints its own lines:
//  1. remap: `docker run --rm busybox true` in a user namespace of its own (--userns=auto:
//     berthd with --userns-remap of a test user, so every container gets a block and
//     idmapped layers) against the default (--userns=host), N each, in alternating rounds.
//     Also checks that no per-container layer copy was made (layer dirs and their du).
//  2. rootless: `run --rm true` against a rootless berthd (a test user's) and a rootful one,
//     with --network none and on the default network (pasta vs bridge); see rootless.ts.
// BENCH_RUNS sets N (default 20).
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanupBerthd, importBusybox, stopBerthd, type Berthd } from '../../test/api/harness.js';
import { makeRemapSetup, removeRemapSetup, startRemapBerthd } from '../../test/userns/support.js';
import { benchRootless } from './rootless.js';

const run = promisify(execFile);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 20);
const ROUNDS = 4;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** ms of each of `count` sequential `docker run --rm [extra] busybox true` */
async function timeRuns(daemon: Berthd, extra: readonly string[], count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run('docker', ['run', '--rm', ...extra, 'busybox', 'true'], { env: daemon.env });
    samples.push(performance.now() - started);
  }
  return samples;
}

async function layerFootprint(daemon: Berthd): Promise<{ dirs: number; kb: number }> {
  const layers = path.join(daemon.dataRoot, 'image', 'snapshots', 'overlay', 'layers');
  const kb = Number((await run('du', ['-skx', layers])).stdout.split('\t')[0]);
  return { dirs: (await readdir(layers)).length, kb };
}

async function benchRemap(): Promise<void> {
  const setup = await makeRemapSetup(4);
  let daemon: Berthd | undefined;
  try {
    daemon = await startRemapBerthd(setup, ['--userns-remap', setup.user]);
    await importBusybox(daemon);
    const modes = [{ label: 'default (--userns=host)', extra: ['--userns=host'] }, { label: '--userns=auto (remap)', extra: [] }];
    const samples = new Map<string, number[]>(modes.map((m) => [m.label, []]));
    for (const m of modes) await timeRuns(daemon, m.extra, 1); // warm-up
    const before = await layerFootprint(daemon);
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of modes) samples.get(m.label)?.push(...await timeRuns(daemon, m.extra, Math.ceil(RUNS / ROUNDS)));
    }
    const after = await layerFootprint(daemon);
    const base = median(samples.get(modes[0]?.label ?? '') ?? []);
    for (const m of modes) {
      const ms = median(samples.get(m.label) ?? []);
      console.log(`run --rm true, ${m.label}: median ${ms.toFixed(1)} ms over ${samples.get(m.label)?.length ?? 0} runs, ratio ${(ms / base).toFixed(3)}`);
    }
    console.log(`layers: ${before.dirs} dirs / ${before.kb} kB before, ${after.dirs} dirs / ${after.kb} kB after (${after.dirs === before.dirs && after.kb === before.kb ? 'no per-container copy' : 'CHANGED'})`);
    const info = (await run('docker', ['info', '--format', '{{json .SecurityOptions}}'], { env: daemon.env })).stdout.trim();
    console.log(`security options: ${info}`);
  } finally {
    if (daemon) {
      await stopBerthd(daemon);
      await cleanupBerthd(daemon);
    }
    await removeRemapSetup(setup);
  }
}

await benchRemap();
await benchRootless();
