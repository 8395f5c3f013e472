// bench/runtime: N sequential create+start+wait+delete of a `true` bundle through the
// in-process API and through `berth-runtime run`, against `crun run` and `runc run` of the
// same bundle, printed as ratios measured in the same run. N = BERTH_BENCH_N or 100.
// The modes take turns (one run of each per round) so a change in machine load hits all of
// them alike; medians are compared. `node -e 0` is the start-up floor of any Node command.
// The in-process runs also report the median of each phase of create/start/delete; they
// use the runtime as berthd does (the helper spawned from one sealed in-memory copy, warm
// helpers, stdio on pipes that are drained). Then the exit latency: a container prints
// CLOCK_MONOTONIC as its last act (probe clock) and the time until the in-process handle's
// exit settles is measured (the kernel's exit and reaping, the shim's report, the event loop).
// crun needs hugetlb out of the empty cgroup2 on a hybrid host: see hugetlb.ts.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBuiltinRuntime } from '../../src/runtime/factory.js';
import type { ProcessHandle } from '../../src/runtime/runtime.js';
import { PhaseTimer } from '../../src/util/phase-timer.js';
import { makeBundle, removeTemplate } from '../../test/runtime/bundle.js';
import { REPO_ROOT } from '../../test/support/busybox-rootfs.js';
import { mountHugetlbV1 } from '../../test/runtime/hugetlb.js';

const iterations = Number(process.env['BERTH_BENCH_N'] ?? 100);
const work = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-runtime-'));
const bundle = await makeBundle('bench', ['/bin/true'], (spec) => {
  // a plain `true` bundle: no terminal, default namespaces and mounts as `runc spec` makes them
  spec.hostname = 'bench';
});

function drain(handle: ProcessHandle): void {
  if (handle.io.kind !== 'pipes') return;
  handle.io.stdin.end();
  handle.io.stdout.resume();
  handle.io.stderr.resume();
}

interface Mode { name: string; once(i: number): Promise<void> | void; samples: number[]; note?: string; firstMs?: number }

function cliRun(binary: string, root: string): (i: number) => void {
  return (i) => {
    const result = spawnSync(binary, ['--root', root, 'run', '--bundle', bundle.dir, `berth-bench-${path.basename(binary)}-${i + 1}`],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${path.basename(binary)} run failed: ${result.stderr.trim() || result.error?.message}`);
  };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const phases = new Map<string, number[]>();
const recordPhase = (phase: string, ms: number): void => {
  const list = phases.get(phase) ?? [];
  list.push(ms);
  phases.set(phase, list);
};

const clockBundle = await makeBundle('bench-exit', ['/bin/probe', 'clock']);
const exitLatencies: number[] = [];

/** ms from the container's last act (printing CLOCK_MONOTONIC) to its handle's exit settling */
async function exitLatency(id: string): Promise<number> {
  const handle = await runtime.create(id, clockBundle.dir, { stdio: 'pipe' });
  if (handle.io.kind !== 'pipes') throw new Error('the exit probe needs pipes');
  handle.io.stdin.end();
  handle.io.stderr.resume();
  const chunks: Buffer[] = [];
  handle.io.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => { if (handle.io.kind === 'pipes') handle.io.stdout.on('end', resolve); });
  await runtime.start(id);
  await handle.exit;
  const known = process.hrtime.bigint(); // CLOCK_MONOTONIC as the probe's
  await runtime.delete(id);
  await ended; // the output may be read after the exit message
  const printed = BigInt(Buffer.concat(chunks).toString().trim() || '0');
  if (printed === 0n) throw new Error('the exit probe printed nothing');
  return Number(known - printed) / 1e6;
}

const hugetlb = mountHugetlbV1();
const nodeFloorEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'));
const runtime = createBuiltinRuntime({ root: path.join(work, 'berth'), sealedHelper: true });
const modes: Mode[] = [
  {
    name: 'berth in-process', samples: [],
    once: async (i) => {
      const id = `berth-bench-api-${i + 1}`;
      const trace = new PhaseTimer(i < 0 ? () => undefined : recordPhase);
      const handle = await runtime.create(id, bundle.dir, { stdio: 'pipe', trace: trace.child('create.') });
      drain(handle);
      await runtime.start(id, { trace: trace.child('start.') });
      trace.reset(); // the child timers above do not move this timer's clock
      const status = await handle.exit;
      trace.mark('wait');
      if (status.exitCode !== 0) throw new Error(`true exited ${status.exitCode}`);
      await runtime.delete(id, { trace: trace.child('delete.') });
      trace.total();
    },
  },
  { name: 'berth-runtime run', samples: [], once: cliRun(path.join(REPO_ROOT, 'bin/berth-runtime'), path.join(work, 'cli')) },
  ...['crun', 'runc'].map((other): Mode => ({ name: `${other} run`, samples: [], once: cliRun(`/usr/bin/${other}`, path.join(work, other)) })),
  {
    // as bin/berth-runtime starts node: without NODE_EXTRA_CA_CERTS (see the launcher)
    name: 'node -e 0', samples: [],
    once: () => { spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore', env: nodeFloorEnv }); },
  },
];

try {
  for (const mode of modes) {
    try {
      const start = performance.now();
      await mode.once(-1); // warm-up, also proves the mode works here
      mode.firstMs = performance.now() - start; // berth-runtime's first call starts its resident server
    } catch (err) {
      mode.note = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    }
  }
  const usable = modes.filter((m) => m.note === undefined);
  for (let i = 0; i < iterations; i++) {
    for (const mode of usable) {
      const start = performance.now();
      await mode.once(i);
      mode.samples.push(performance.now() - start);
    }
  }
  for (let i = 0; i < Math.max(10, iterations / 2); i++) exitLatencies.push(await exitLatency(`berth-bench-exit-${i + 1}`));
} finally {
  await clockBundle.remove();
  await bundle.remove();
  await removeTemplate();
  await rm(work, { recursive: true, force: true });
  await hugetlb.undo?.();
}

console.log(`runtime: ${iterations} x create+start+wait+delete of /bin/true (medians, modes interleaved)`
  + `${hugetlb.undo ? '; hugetlb mounted as cgroup v1 for crun, then restored' : ''}${hugetlb.note ? `; hugetlb not mounted: ${hugetlb.note}` : ''}`);
for (const m of modes) console.log(`  ${m.name.padEnd(18)} ${m.note === undefined ? `${median(m.samples).toFixed(1)} ms/run` : `n/a (${m.note})`}`);
const byName = new Map(modes.map((m) => [m.name, m.note === undefined ? median(m.samples) : null]));
const ratio = (a: string, b: string): string => {
  const x = byName.get(a);
  const y = byName.get(b);
  return x && y ? `${(x / y).toFixed(2)}x` : 'n/a';
};
console.log(`  in-process / crun run: ${ratio('berth in-process', 'crun run')}   in-process / runc run: ${ratio('berth in-process', 'runc run')}`);
console.log(`  berth-runtime run / runc run: ${ratio('berth-runtime run', 'runc run')}   / crun run: ${ratio('berth-runtime run', 'crun run')}`
  + `   node -e 0 / runc run: ${ratio('node -e 0', 'runc run')}`);
const first = modes.find((m) => m.name === 'berth-runtime run')?.firstMs;
if (first !== undefined) console.log(`  berth-runtime run, first call (starts its resident server): ${first.toFixed(1)} ms`);
console.log(`  in-process phases (median ms): ${[...phases].map(([name, values]) => `${name} ${median(values).toFixed(1)}`).join(', ')}`);
if (exitLatencies.length > 0) {
  console.log(`  exit latency, container's last act -> in-process exit known: median ${median(exitLatencies).toFixed(2)} ms over ${exitLatencies.length}`);
}
