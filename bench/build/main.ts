// bench/build: a 10-step Dockerfile on busybox (ENV, WORKDIR, COPY of a 20 MB tree, RUN
// steps, EXPOSE, CMD), built cold (--no-cache) and fully cached with the real docker CLI
// (`DOCKER_BUILDKIT=0 docker build -q --network=none -t ... <dir>`) against a private berthd
// and a private dockerd (classic builder) in the same run. The engines take turns in rounds,
// so a change of machine load hits both alike; medians are compared. Both daemons get the
// same busybox rootfs imported as busybox:latest and the same context directory (the CLI
// tars it for either). A third "engine" answers /build at once after reading the context:
// the docker CLI's own time (start, tar the 20 MB tree, upload), the floor under both.
// BENCH_BUILD_RUNS sets the rounds (default 5).
// Targets: cold <= dockerd, cached <= half of dockerd. Run alone: `node dist/bench/build/main.js`.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { cleanupBerthd, importBusybox, removeDir, startBerthd, stopBerthd } from '../../test/api/harness.js';
import { startDockerd, type Engine } from '../engines.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env['BENCH_BUILD_RUNS'] ?? 5);

const DOCKERFILE = [
  'FROM busybox:latest',
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

const median = (v: readonly number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

/** One `docker build` of the bench context; returns the elapsed ms and the image id it printed. */
async function dockerBuild(engine: Engine, context: string, noCache: boolean): Promise<{ ms: number; id: string }> {
  const start = performance.now();
  const { stdout } = await run('docker', ['build', '-q', '--network=none', ...(noCache ? ['--no-cache'] : []), '-t', 'berth-bench/build', context],
    { env: { ...engine.env, DOCKER_BUILDKIT: '0' }, maxBuffer: 1 << 20 });
  return { ms: performance.now() - start, id: stdout.trim() };
}

interface Samples { cold: number[]; cached: number[]; cachedCpuMs: number[] }

/**
 * CPU time (user + system, all threads) a daemon process has used, in ms; undefined when it
 * cannot be read. Less sensitive to the machine's load than elapsed time.
 */
async function cpuMs(pid: number): Promise<number | undefined> {
  if (pid <= 0 || pid === process.pid) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // the fields after the command name (which may hold spaces): utime and stime are 14 and 15
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime] = [Number(fields?.[11]), Number(fields?.[12])];
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / 100 : undefined;
}

/**
 * A server that reads the whole build context and answers with an image ID at once, so a
 * `docker build` against it times the CLI alone.
 */
async function startNullBuilder(socket: string): Promise<{ engine: Engine; server: Server }> {
  const id = `sha256:${'0'.repeat(64)}`;
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/_ping') === true) {
      res.writeHead(200, { 'api-version': '1.41', 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ aux: { ID: id } })}\n${JSON.stringify({ stream: `${id}\n` })}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { engine: { name: 'cli-floor', env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, pid: process.pid }, server };
}

async function measure(engines: Engine[], context: string): Promise<Map<string, Samples>> {
  const samples = new Map<string, Samples>(engines.map((e) => [e.name, { cold: [], cached: [], cachedCpuMs: [] }]));
  for (const engine of engines) await dockerBuild(engine, context, false); // warm-up: fills the cache
  for (let round = 0; round < ROUNDS; round++) {
    for (const engine of engines) samples.get(engine.name)?.cold.push((await dockerBuild(engine, context, true)).ms);
    for (const engine of engines) {
      const cpuBefore = await cpuMs(engine.pid);
      const first = await dockerBuild(engine, context, false);
      const second = await dockerBuild(engine, context, false);
      const cpuAfter = await cpuMs(engine.pid);
      // two cached builds in a row give the same image: the cache really hit
      if (first.id !== second.id) throw new Error(`${engine.name}: two cached builds gave ${first.id} and ${second.id}`);
      samples.get(engine.name)?.cached.push(first.ms, second.ms);
      if (cpuBefore !== undefined && cpuAfter !== undefined) samples.get(engine.name)?.cachedCpuMs.push((cpuAfter - cpuBefore) / 2);
    }
  }
  return samples;
}

function report(samples: Map<string, Samples>): void {
  const berth = samples.get('berthd');
  const dockerd = samples.get('dockerd');
  const floor = samples.get('cli-floor');
  const fmt = (v: number[] | undefined): string => (v && v.length > 0 ? `${median(v).toFixed(0)} ms` : 'n/a');
  const ratio = (a: number[] | undefined, b: number[] | undefined, target: string): string =>
    (a && b && b.length > 0 ? `  ratio ${(median(a) / median(b)).toFixed(2)} (target <= ${target})` : '');
  console.log(`bench/build cold (--no-cache), docker CLI: berthd ${fmt(berth?.cold)}  dockerd classic ${fmt(dockerd?.cold)}${ratio(berth?.cold, dockerd?.cold, '1')}`);
  console.log(`bench/build cached rebuild, docker CLI:    berthd ${fmt(berth?.cached)}  dockerd classic ${fmt(dockerd?.cached)}${ratio(berth?.cached, dockerd?.cached, '0.5')}`);
  if (berth && berth.cachedCpuMs.length > 0) {
    console.log(`  daemon CPU per cached build (user+sys, all threads): berthd ${fmt(berth.cachedCpuMs)}, dockerd ${fmt(dockerd?.cachedCpuMs)}`);
  }
  if (floor && berth && dockerd && dockerd.cached.length > 0) {
    const f = median(floor.cached);
    console.log(`  the docker CLI alone (a server that answers at once): ${f.toFixed(0)} ms; above it, cached: ` +
      `berthd ${(median(berth.cached) - f).toFixed(0)} ms, dockerd ${(median(dockerd.cached) - f).toFixed(0)} ms`);
  }
}

export async function runBuildBench(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/build: needs root, skipped'); return; }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-build-'));
  const context = path.join(dir, 'ctx');
  await makeTree(path.join(context, 'tree'));
  await writeFile(path.join(context, 'Dockerfile'), DOCKERFILE);
  const daemon = await startBerthd();
  let dockerd: Awaited<ReturnType<typeof startDockerd>>;
  let nullBuilder: Awaited<ReturnType<typeof startNullBuilder>> | undefined;
  try {
    await importBusybox(daemon);
    dockerd = await startDockerd(path.join(dir, 'dockerd'));
    nullBuilder = await startNullBuilder(path.join(dir, 'null-builder.sock'));
    const engines: Engine[] = [{ name: 'berthd', env: daemon.env, pid: daemon.process.pid ?? 0 }];
    if (dockerd) engines.push(dockerd.engine);
    report(await measure([...engines, nullBuilder.engine], context));
  } finally {
    const server = nullBuilder?.server;
    if (server) await new Promise((resolve) => server.close(resolve));
    await dockerd?.stop();
    await stopBerthd(daemon);
    await cleanupBerthd(daemon);
    await removeDir(daemon);
    await rm(dir, { recursive: true, force: true });
  }
}

await runBuildBench();
