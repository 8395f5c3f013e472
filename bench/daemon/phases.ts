// bench/daemon/phases: where the daemon side of `docker run --rm --network none busybox true`
// goes. A private berthd (--log-level debug) runs it N times (BENCH_RUNS, default 20); the
// per-phase debug lines of the last runs are summed per phase (median over the runs), and the
// HTTP requests the CLI made are timed from the daemon's request log.
import { cleanupBerthd, importBusybox, removeDir, startBerthd, stopBerthd } from '../../test/api/harness.js';
import { docker, type Engine } from '../engines.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 20);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/**
 * The timeline of each run from the log's timestamps (ms): when each request arrived, when
 * create and start were done, when the exit was handled. What lies between is the CLI's
 * (request to request) or the container's (start to exit).
 */
function requestGaps(lines: readonly string[]): Map<string, number[]> {
  const gaps = new Map<string, number[]>();
  const add = (key: string, ms: number): void => { gaps.set(key, [...(gaps.get(key) ?? []), ms]); };
  let marks = new Map<string, number>();
  for (const line of lines) {
    const at = Date.parse(/^time="([^"]+)"/.exec(line)?.[1] ?? '');
    if (Number.isNaN(at)) continue;
    const what = /msg="(HEAD \/_ping|POST \S+\/containers\/create|POST \S+\/start|container \w+ (?:create|start|exit): total)/.exec(line)?.[1];
    if (what === undefined) continue;
    const key = what.startsWith('HEAD') ? 'ping' : what.endsWith('/create') ? 'create-request' : what.endsWith('/start') ? 'start-request'
      : what.includes('create:') ? 'create-done' : what.includes('start:') ? 'start-done' : 'exit-done';
    if (key === 'ping') marks = new Map();
    marks.set(key, at);
    const since = (from: string): number | undefined => { const t = marks.get(from); return t === undefined ? undefined : at - t; };
    const pairs: Record<string, [string, string]> = {
      'create-request': ['ping', 'timeline: _ping -> create (CLI)'], 'create-done': ['create-request', 'timeline: create request -> created'],
      'start-request': ['create-done', 'timeline: created -> start request (CLI)'], 'start-done': ['start-request', 'timeline: start request -> started'],
      'exit-done': ['start-done', 'timeline: started -> exit handled'],
    };
    const pair = pairs[key];
    const ms = pair ? since(pair[0]) : undefined;
    if (pair && ms !== undefined) add(pair[1], ms);
  }
  return gaps;
}

const d = await startBerthd();
try {
  await importBusybox(d);
  const engine: Engine = { name: 'berthd', env: d.env, pid: d.process.pid ?? 0 };
  for (let i = 0; i < 3; i++) await docker(engine, ['run', '--rm', '--network', 'none', 'busybox', 'true']);
  const logStart = (await d.log()).length;
  const totals: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await docker(engine, ['run', '--rm', '--network', 'none', 'busybox', 'true']);
    totals.push(performance.now() - started);
  }
  const lines = (await d.log()).slice(logStart).split('\n');
  const phases = new Map<string, number[]>();
  for (const line of lines) {
    // "container 1234abcd create: snapshot 6.1 ms" as formatPhase writes it
    const match = /container [0-9a-f]{12} (\w+): ([\w.-]+) ([\d.]+) ?ms/.exec(line);
    if (!match) continue;
    const key = `${match[1]} ${match[2]}`;
    const list = phases.get(key) ?? [];
    list.push(Number(match[3]));
    phases.set(key, list);
  }
  console.log(`run --rm --network none true: median ${median(totals).toFixed(1)} ms over ${RUNS}`);
  for (const [key, values] of requestGaps(lines)) console.log(`  ${key.padEnd(40)} median ${median(values).toFixed(2)} ms  (n=${values.length})`);
  for (const [key, values] of phases) console.log(`  ${key.padEnd(40)} median ${median(values).toFixed(2)} ms  (n=${values.length})`);
  if (process.env['BENCH_SHOW_LOG']) console.log(lines.slice(-60).join('\n'));
} finally {
  await stopBerthd(d);
  await cleanupBerthd(d);
  await removeDir(d);
}
