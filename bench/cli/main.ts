// Start-up cost of the CLI: `berth version` and `berth ps` against `docker version` and
// `docker ps` on the same daemon, interleaved, medians of N runs, printed as ratios.
// The daemon is BERTH_BENCH_HOST if set, else a private dockerd started for the run.
// berth runs through bin/berth, as users run it (the sh launcher that moves
// NODE_EXTRA_CA_CERTS aside is part of the cost); the node floors are printed both ways.
import { execFile as execFileCb } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../test/support/busybox-rootfs.js';
import { CliTestEnv } from '../../test/cli/support/harness.js';

const execFile = promisify(execFileCb);
const RUNS = Number(process.env.BERTH_BENCH_RUNS ?? 15);

async function timeOnce(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = process.hrtime.bigint();
  await execFile(file, args, { env });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const launcher = path.join(REPO_ROOT, 'dist/cli/launch.cjs');
  if (!existsSync(launcher)) throw new Error(`${launcher} is missing: run npm run build`);
  const hasDocker = await execFile('sh', ['-c', 'command -v docker']).then(() => true, () => false);
  if (!hasDocker) { console.log('cli: skipped (no docker CLI to compare with)'); return; }
  const testEnv = new CliTestEnv();
  const external = process.env.BERTH_BENCH_HOST;
  if (external !== undefined) testEnv.host = external;
  else await testEnv.start({ image: false });
  try {
    const env = { ...process.env, DOCKER_HOST: testEnv.host, BERTH_HOST: testEnv.host };
    const berth = path.join(REPO_ROOT, 'bin/berth');
    await timeOnce(berth, ['version'], env); // warms the V8 code cache
    const cases: Array<[string, string, string[]]> = [
      ['node -e 0 (floor)', process.execPath, ['-e', '0']],
      ['node -e 0, no CA env', 'env', ['-u', 'NODE_EXTRA_CA_CERTS', process.execPath, '-e', '0']],
      ['berth version', berth, ['version']], ['docker version', 'docker', ['version']],
      ['berth ps', berth, ['ps']], ['docker ps', 'docker', ['ps']],
    ];
    const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, file, args] of cases) times.get(name)?.push(await timeOnce(file, args, env));
    }
    const m = (name: string): number => median(times.get(name) ?? []);
    for (const [name] of cases) console.log(`cli: ${name.padEnd(22)} median ${m(name).toFixed(1)} ms over ${RUNS} runs`);
    console.log(`cli: berth version / docker version = ${(m('berth version') / m('docker version')).toFixed(2)}x (target <= 2x)`);
    console.log(`cli: berth ps / docker ps           = ${(m('berth ps') / m('docker ps')).toFixed(2)}x (target <= 2x)`);
  } finally {
    if (external === undefined) await testEnv.stop();
  }
}

await main();
