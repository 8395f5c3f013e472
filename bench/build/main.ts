// bench/build: a 10-step Dockerfile on busybox (ENV, WORKDIR, COPY of a 20 MB tree, RUN
// steps, EXPOSE, CMD), built cold (--no-cache) and fully cached, by berth's builder (real
// store, snapshots and runtime; the context sent as a tarball as the API receives it) and by
// a private dockerd's classic builder (DOCKER_BUILDKIT=0 docker build -) in the same run, both
// fed the same context tarball.
// Targets: cold <= dockerd, cached <= half of dockerd. Run alone: `node dist/bench/build/main.js [runs]`.
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { BuildStack } from '../../test/build/support.js';
import { startDockerd } from '../../test/images/dockerd.js';
import { saveImages } from '../../src/daemon/images/archive.js';

const DOCKERFILE = (base: string): string => [
  `FROM ${base}`,
  'ENV APP_HOME=/app MODE=bench',
  'WORKDIR /app',
  'COPY tree /app/tree',
  'RUN du -s /app/tree > /app/size.txt',
  'RUN echo step > /app/step.txt',
  'ENV READY=1',
  'EXPOSE 8080',
  'RUN ls /app > /app/list.txt',
  'CMD ["sh"]',
].join('\n') + '\n';

/** 20 MB in 400 files of 50 KB (pseudo-random, not compressible) plus 600 small ones. */
async function makeTree(dir: string): Promise<void> {
  let seed = createHash('sha256').update('berth-bench').digest();
  const block = (size: number): Buffer => {
    const parts: Buffer[] = [];
    for (let n = 0; n < size; n += 32) { seed = createHash('sha256').update(seed).digest(); parts.push(seed); }
    return Buffer.concat(parts).subarray(0, size);
  };
  for (let i = 0; i < 400; i++) {
    await mkdir(path.join(dir, `d${i % 20}`), { recursive: true });
    await writeFile(path.join(dir, `d${i % 20}`, `blob${i}.bin`), block(50 * 1024));
  }
  for (let i = 0; i < 600; i++) await writeFile(path.join(dir, `d${i % 20}`, `small${i}.txt`), `file ${i}\n`);
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export async function runBuildBench(runs = 3): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/build: needs root, skipped'); return; }
  const stack = await BuildStack.start();
  const ctx = path.join(stack.dir, 'bench-ctx');
  await makeTree(path.join(ctx, 'tree'));
  await writeFile(path.join(ctx, 'Dockerfile'), DOCKERFILE(stack.base));
  // both engines get the same context tarball (docker reads it from stdin: `docker build -`)
  const contextTar = path.join(stack.dir, 'bench-ctx.tar');
  execFileSync('tar', ['-C', ctx, '-cf', contextTar, '.']);
  const serverMs: number[] = [];
  const berthBuild = async (noCache: boolean): Promise<void> => {
    const context = createReadStream(contextTar);
    const start = performance.now();
    await stack.service.build({ context, noCache, network: 'none', tags: ['berth-bench/build'] }, () => undefined);
    if (!noCache) serverMs.push(performance.now() - start);
  };
  const result: Record<string, number[]> = { berthCold: [], berthCached: [], dockerCold: [], dockerCached: [] };
  let dockerd: Awaited<ReturnType<typeof startDockerd>> | undefined;
  try {
    await berthBuild(false);
    for (let i = 0; i < runs; i++) {
      result.berthCold?.push(await time(() => berthBuild(true)));
      result.berthCached?.push(await time(() => berthBuild(false)));
    }
    let hasDocker = true;
    try { execFileSync('sh', ['-c', 'command -v dockerd'], { stdio: 'ignore' }); } catch { hasDocker = false; }
    if (hasDocker) {
      dockerd = await startDockerd();
      const saved: Buffer[] = [];
      for await (const chunk of saveImages(stack.images, [stack.base])) saved.push(chunk);
      dockerd.docker(['load'], Buffer.concat(saved));
      const host = dockerd.host;
      const dockerBuild = (noCache: boolean): void => {
        const stdin = openSync(contextTar, 'r');
        try {
          execFileSync('docker', ['-H', host, 'build', '-q', '--network=none', ...(noCache ? ['--no-cache'] : []), '-t', 'berth-bench/build', '-'],
            { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: [stdin, 'ignore', 'ignore'] });
        } finally {
          closeSync(stdin);
        }
      };
      dockerBuild(false);
      for (let i = 0; i < runs; i++) {
        result.dockerCold?.push(await time(() => dockerBuild(true)));
        result.dockerCached?.push(await time(() => dockerBuild(false)));
      }
    }
  } finally {
    await dockerd?.stop();
    await stack.close();
  }
  const m = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, median(v)]));
  const fmt = (ms: number | undefined): string => (ms === undefined || ms === 0 ? 'n/a' : `${ms.toFixed(0)} ms`);
  console.log(`bench/build cold:   berth ${fmt(m.berthCold)}  dockerd classic ${fmt(m.dockerCold)}` +
    (m.dockerCold ? `  ratio ${((m.berthCold ?? 0) / m.dockerCold).toFixed(2)} (target <= 1)` : ''));
  console.log(`bench/build cached: berth ${fmt(m.berthCached)}  dockerd classic ${fmt(m.dockerCached)}` +
    (m.dockerCached ? `  ratio ${((m.berthCached ?? 0) / m.dockerCached).toFixed(2)} (target <= 0.5)` : '') +
    `  (berth daemon side ${median(serverMs.slice(1)).toFixed(0)} ms)`);
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
await runBuildBench(invokedDirectly ? Number(process.argv[2] ?? 3) : 3);
