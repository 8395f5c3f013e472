// bench/userns, rootless section: `docker run --rm busybox true` against a rootless berthd
// (a throwaway user made for the run, as test/rootless does) and a rootful berthd, in turns
// within one run so machine load hits both alike; medians and their ratio are printed.
// Both with --network none and on their default network (rootless: a veth on a bridge in
// the daemon's rootless netns, which one pasta connects outside; rootful: on the host).
// BENCH_RUNS sets the runs per mode (default 30). Needs root.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../../test/support/busybox-rootfs.js';
import { cleanupBerthd, importBusybox, removeDir, startBerthd, stopBerthd } from '../../test/api/harness.js';
import { createTestUser, openTunDevice, startRootlessBerthd } from '../../test/rootless/support.js';

const run = promisify(execFile);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 30);
const ROUNDS = 5;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

interface Mode { label: string; env: NodeJS.ProcessEnv; extra: string[] }

async function runOnce(mode: Mode): Promise<number> {
  const started = performance.now();
  await run('docker', ['run', '--rm', ...mode.extra, 'busybox', 'true'], { env: mode.env });
  return performance.now() - started;
}

async function measure(modes: readonly Mode[]): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(modes.map((m) => [m.label, []]));
  for (const m of modes) await runOnce(m); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of modes) for (let i = 0; i < Math.ceil(RUNS / ROUNDS); i++) samples.get(m.label)?.push(await runOnce(m));
  }
  return new Map(modes.map((m) => [m.label, median(samples.get(m.label) ?? [])]));
}

export async function benchRootless(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('rootless vs rootful: skipped (needs root to make the test user)');
    return;
  }
  const user = await createTestUser(randomBytes(3).toString('hex'));
  const restoreTun = await openTunDevice();
  const rootful = await startBerthd();
  let rootless: Awaited<ReturnType<typeof startRootlessBerthd>> | undefined;
  try {
    await importBusybox(rootful);
    rootless = await startRootlessBerthd(user);
    const rootfs = await makeBusyboxRootfs(path.join(user.dir, 'rootfs'), { probe: false });
    await run('tar', ['-C', rootfs, '-cf', path.join(user.dir, 'busybox.tar'), '.']);
    await run('docker', ['import', path.join(user.dir, 'busybox.tar'), 'busybox:latest'], { env: rootless.env });
    const medians = await measure([
      { label: 'rootful none', env: rootful.env, extra: ['--network', 'none'] },
      { label: 'rootless none', env: rootless.env, extra: ['--network', 'none'] },
      { label: 'rootful bridge', env: rootful.env, extra: [] },
      { label: 'rootless bridge', env: rootless.env, extra: [] },
    ]);
    for (const [label, ms] of medians) console.log(`${label}: run --rm true ${ms.toFixed(1)} ms (median of ${RUNS})`);
    const ratio = (a: string, b: string): string => ((medians.get(a) ?? NaN) / (medians.get(b) ?? NaN)).toFixed(2);
    console.log(`rootless/rootful, --network none: ${ratio('rootless none', 'rootful none')}x`);
    console.log(`rootless/rootful, default bridge network: ${ratio('rootless bridge', 'rootful bridge')}x`);
  } finally {
    await rootless?.stop();
    await stopBerthd(rootful);
    await cleanupBerthd(rootful);
    await removeDir(rootful);
    await restoreTun();
    await user.remove();
  }
}
