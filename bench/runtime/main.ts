// bench/runtime: N sequential create+start+wait+delete of a `true` bundle through the
// in-process API and through `berth-runtime run`, against `crun run` and `runc run` of the
// same bundle, printed as ratios measured in the same run. N = BERTH_BENCH_N or 100.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBuiltinRuntime } from '../../src/runtime/factory.js';
import { makeBundle, removeTemplate } from '../../test/runtime/bundle.js';
import { REPO_ROOT } from '../../test/support/busybox-rootfs.js';

const iterations = Number(process.env['BERTH_BENCH_N'] ?? 100);
const work = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-runtime-'));
const bundle = await makeBundle('bench', ['/bin/true'], (spec) => {
  // a plain `true` bundle: no terminal, default namespaces and mounts as `runc spec` makes them
  spec.hostname = 'bench';
});

interface Result { name: string; msPerRun: number | null; note?: string }

async function measure(name: string, once: (i: number) => Promise<void> | void): Promise<Result> {
  try {
    await once(-1); // warm-up, also proves the mode works here
  } catch (err) {
    return { name, msPerRun: null, note: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await once(i);
  return { name, msPerRun: (performance.now() - start) / iterations };
}

function cliRun(binary: string, root: string): (i: number) => void {
  return (i) => {
    const result = spawnSync(binary, ['--root', root, 'run', '--bundle', bundle.dir, `berth-bench-${path.basename(binary)}-${i + 1}`],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${path.basename(binary)} run failed: ${result.stderr.trim() || result.error?.message}`);
  };
}

const runtime = createBuiltinRuntime({ root: path.join(work, 'berth') });
const results: Result[] = [];
try {
results.push(await measure('berth in-process', async (i) => {
  const id = `berth-bench-api-${i + 1}`;
  const handle = await runtime.create(id, bundle.dir, { stdio: 'null' });
  await runtime.start(id);
  const status = await handle.exit;
  if (status.exitCode !== 0) throw new Error(`true exited ${status.exitCode}`);
  await runtime.delete(id);
}));
results.push(await measure('berth-runtime run', cliRun(path.join(REPO_ROOT, 'bin/berth-runtime'), path.join(work, 'cli'))));
for (const other of ['crun', 'runc']) {
  const binary = `/usr/bin/${other}`;
  results.push(existsSync(binary) ? await measure(`${other} run`, cliRun(binary, path.join(work, other)))
    : { name: `${other} run`, msPerRun: null, note: 'not installed' });
}

} finally {
  await bundle.remove();
  await removeTemplate();
  await rm(work, { recursive: true, force: true });
}

console.log(`runtime: ${iterations} x create+start+wait+delete of /bin/true`);
for (const r of results) console.log(`  ${r.name.padEnd(18)} ${r.msPerRun === null ? `n/a (${r.note})` : `${r.msPerRun.toFixed(1)} ms/run`}`);
const byName = new Map(results.map((r) => [r.name, r.msPerRun]));
const ratio = (a: string, b: string): string => {
  const x = byName.get(a);
  const y = byName.get(b);
  return x && y ? `${(x / y).toFixed(2)}x` : 'n/a';
};
console.log(`  in-process / crun run: ${ratio('berth in-process', 'crun run')}   in-process / runc run: ${ratio('berth in-process', 'runc run')}`);
console.log(`  berth-runtime run / runc run: ${ratio('berth-runtime run', 'runc run')}   / crun run: ${ratio('berth-runtime run', 'crun run')}`);

