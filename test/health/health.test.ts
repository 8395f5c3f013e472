// Health checks through a private berthd and the real docker CLI: healthy, unhealthy after
// the retries, a hanging check killed at its timeout, the start period, an image's
// HEALTHCHECK from a build and --no-healthcheck, ps status and filter, events, the state
// after a stop and a daemon restart; and nothing leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, startBerthd, useBerthdWithBusybox, stopBerthd, type Berthd } from '../api/harness.js';
import { apiGet, healthOf, inspectState, waitFor } from './support.js';

const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

test('a passing check turns healthy: inspect, ps status and filter, events with the probe execs', { skip }, async () => {
  const name = `ok-${daemon.token}`;
  const since = Math.floor(Date.now() / 1000) - 1;
  await dockerOk(daemon, ['run', '-d', '--name', name, '--health-cmd', 'echo alive', '--health-interval', '300ms', 'busybox', 'sleep', '60']);
  const health = await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'healthy', 15_000);
  assert.equal(health?.FailingStreak, 0);
  assert.equal(health?.Log?.[0]?.ExitCode, 0);
  assert.equal(health?.Log?.[0]?.Output, 'alive\n');
  assert.match(await dockerOk(daemon, ['ps', '--filter', `name=${name}`, '--format', '{{.Status}}']), /^Up .* \(healthy\)$/);
  assert.equal(await dockerOk(daemon, ['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=healthy']) !== '', true);
  assert.equal(await dockerOk(daemon, ['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=unhealthy']), '');
  assert.equal(await dockerOk(daemon, ['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=none']), '');
  // the list summary carries Health from API 1.52 on
  const query = `containers/json?filters=${encodeURIComponent(JSON.stringify({ name: [name] }))}`;
  const summaries = JSON.parse(await apiGet(daemon, `/v1.52/${query}`)) as Array<{ Health?: { Status: string; FailingStreak: number } }>;
  assert.deepEqual(summaries[0]?.Health, { Status: 'healthy', FailingStreak: 0 });
  const older = JSON.parse(await apiGet(daemon, `/v1.45/${query}`)) as Array<{ Health?: unknown }>;
  assert.equal(older[0]?.Health, undefined);
  const badFilter = await docker(daemon, ['ps', '--filter', 'health=sick']);
  assert.match(badFilter.stderr, /Unrecognised filter value for health: sick/);
  // once the first result has rotated out (a sixth probe ran), the log holds the last five
  const firstStart = health?.Log?.[0]?.Start;
  const rotated = await waitFor(() => healthOf(daemon, name), (h) => h?.Log?.[0]?.Start !== firstStart, 20_000);
  assert.equal(rotated?.Log?.length, 5);
  const events = await dockerOk(daemon, ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)),
    '--filter', `container=${name}`, '--format', '{{.Action}}']);
  const actions = events.split('\n');
  assert.ok(actions.includes('health_status: healthy'), events);
  assert.equal(actions.filter((a) => a === 'health_status: healthy').length, 1, 'one event per change');
  assert.ok(actions.includes('exec_create: /bin/sh -c echo alive'), events);
  assert.ok(actions.includes('exec_start: /bin/sh -c echo alive'), events);
  assert.ok(actions.includes('exec_die'), events);
  // probes are not listed as the container's execs
  assert.equal((await inspectState(daemon, name, '{{json .ExecIDs}}')), 'null');
  await dockerOk(daemon, ['stop', '-t', '1', name]);
  // checks end with the run: docker then reports unhealthy
  assert.equal((await healthOf(daemon, name))?.Status, 'unhealthy');
  await dockerOk(daemon, ['rm', name]);
});

test('a failing check is unhealthy only after the retries; the streak counts on', { skip }, async () => {
  const name = `fail-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', name, '--health-cmd', 'echo nope >&2; exit 3', '--health-interval', '400ms',
    '--health-retries', '3', 'busybox', 'sleep', '60']);
  const first = await waitFor(() => healthOf(daemon, name), (h) => (h?.FailingStreak ?? 0) >= 1, 15_000);
  // fewer failures than the retries are not unhealthy yet (a slow poll may have seen more)
  assert.equal(first?.Status, (first?.FailingStreak ?? 0) < 3 ? 'starting' : 'unhealthy', JSON.stringify(first));
  const health = await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'unhealthy', 15_000);
  assert.ok((health?.FailingStreak ?? 0) >= 3);
  assert.equal(health?.Log?.at(-1)?.ExitCode, 3);
  assert.equal(health?.Log?.at(-1)?.Output, 'nope\n');
  assert.match(await dockerOk(daemon, ['ps', '--filter', `name=${name}`, '--format', '{{.Status}}']), /\(unhealthy\)$/);
  assert.notEqual(await dockerOk(daemon, ['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=unhealthy']), '');
  await dockerOk(daemon, ['rm', '-f', name]);
});

test('a check that hangs is killed at its timeout and counts as a failure', { skip }, async () => {
  const name = `hang-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', name, '--health-cmd', 'exec sleep 1000', '--health-interval', '300ms',
    '--health-timeout', '500ms', '--health-retries', '1', 'busybox', 'sleep', '60']);
  const health = await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'unhealthy', 15_000);
  const entry = health?.Log?.[0];
  assert.equal(entry?.ExitCode, -1);
  assert.equal(entry?.Output, 'Health check exceeded timeout (500ms)');
  const took = Date.parse(entry?.End ?? '') - Date.parse(entry?.Start ?? '');
  assert.ok(took >= 400 && took < 5000, `the probe ran ${took}ms`);
  // the hung probes were killed: no pile-up of sleeps inside the container
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const processes = await dockerOk(daemon, ['top', name]);
  assert.ok(processes.split('\n').filter((l) => l.includes('sleep 1000')).length <= 1, processes);
  await dockerOk(daemon, ['rm', '-f', name]);
});

test('inside the start period probes come every StartInterval and failures do not count', { skip }, async () => {
  const name = `grace-${daemon.token}`;
  // StartInterval came with API 1.44 (docker 25): sent through the API so docker 20.10's CLI runs this too
  const startPeriodMs = 3000;
  const intervalMs = 5000;
  const created = await fetchCreate(daemon, { Image: 'busybox', Cmd: ['sleep', '60'], Healthcheck: { Test: ['CMD-SHELL', 'exit 1'],
    Interval: intervalMs * 1e6, Retries: 1, StartPeriod: startPeriodMs * 1e6, StartInterval: 200e6 } }, name);
  assert.equal(created.status, 201, created.body);
  await dockerOk(daemon, ['start', name]);
  const startedAt = Date.parse(await inspectState(daemon, name, '{{.State.StartedAt}}'));
  const early = await waitFor(() => healthOf(daemon, name), (h) => (h?.Log?.length ?? 0) >= 2, 15_000);
  const [first, second] = (early?.Log ?? []).map((e) => Date.parse(e.Start));
  assert.ok((second ?? 0) - (first ?? 0) < intervalMs, 'the second probe followed the first at the StartInterval, not the Interval');
  // every failure that started inside the start period was forgiven
  const late = await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'unhealthy', 20_000);
  const log = late?.Log ?? [];
  const counted = log.filter((e) => Date.parse(e.Start) - startedAt >= startPeriodMs);
  assert.ok(log.some((e) => e.ExitCode === 1 && Date.parse(e.Start) - startedAt < startPeriodMs), JSON.stringify(log));
  assert.equal(late?.FailingStreak, counted.length, JSON.stringify(late));
  await dockerOk(daemon, ['rm', '-f', name]);
});

test("an image's HEALTHCHECK applies; --no-healthcheck and --health-* overrides as docker merges them", { skip }, async () => {
  const context = path.join(daemon.dir, 'hc-context');
  await mkdir(context, { recursive: true });
  await writeFile(path.join(context, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=300ms --retries=2 CMD ["test", "-e", "/tmp/ok"]\n');
  const image = `berth-hc-${daemon.token}`;
  await dockerOk(daemon, ['build', '-q', '-t', image, context]);
  const from = `img-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', from, image, 'sh', '-c', 'touch /tmp/ok; sleep 60']);
  const health = await waitFor(() => healthOf(daemon, from), (h) => h?.Status === 'healthy', 15_000);
  assert.equal(health?.Log?.[0]?.ExitCode, 0);
  const config = JSON.parse(await inspectState(daemon, from, '{{json .Config.Healthcheck}}')) as { Test: string[]; Interval: number };
  assert.deepEqual(config.Test, ['CMD', 'test', '-e', '/tmp/ok']);
  // commit keeps the check in the new image
  const committed = `berth-hc-commit-${daemon.token}`;
  await dockerOk(daemon, ['commit', from, committed]);
  const imageCheck = JSON.parse(await dockerOk(daemon, ['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', committed])) as { Test: string[] };
  assert.deepEqual(imageCheck.Test, ['CMD', 'test', '-e', '/tmp/ok']);
  await dockerOk(daemon, ['rmi', committed]);
  // a --health-interval alone keeps the image's command (field by field merge)
  const merged = `merge-${daemon.token}`;
  await dockerOk(daemon, ['create', '--name', merged, '--health-interval', '2s', image, 'true']);
  const mergedConfig = JSON.parse(await inspectState(daemon, merged, '{{json .Config.Healthcheck}}')) as { Test: string[]; Interval: number; Retries: number };
  assert.deepEqual(mergedConfig.Test, ['CMD', 'test', '-e', '/tmp/ok']);
  assert.equal(mergedConfig.Interval, 2e9);
  assert.equal(mergedConfig.Retries, 2);
  const off = `off-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', off, '--no-healthcheck', image, 'sleep', '60']);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(await inspectState(daemon, off, '{{json .State.Health}}'), 'null');
  assert.match(await dockerOk(daemon, ['ps', '--filter', `name=${off}`, '--format', '{{.Status}}']), /^Up [^(]*$/);
  assert.notEqual(await dockerOk(daemon, ['ps', '-q', '--filter', `name=${off}`, '--filter', 'health=none']), '');
  await dockerOk(daemon, ['rm', '-f', from, merged, off]);
  await dockerOk(daemon, ['rmi', image]);
});

test('hostile health configs are refused with the field named', { skip }, async () => {
  const negative = await docker(daemon, ['create', '--health-cmd', 'true', '--health-retries', '-1', 'busybox']);
  assert.notEqual(negative.code, 0);
  assert.match(negative.stderr, /health-retries cannot be negative/);
  const tiny = await fetchCreate(daemon, { Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'], Interval: 10 } });
  assert.equal(tiny.status, 400);
  assert.match(tiny.body, /Interval in Healthcheck cannot be less than 1ms/);
  // StartInterval is an API 1.44 field: older clients cannot set it
  const old = await fetchCreate(daemon, { Image: 'busybox', Cmd: ['true'], Healthcheck: { Test: ['CMD', 'true'], StartInterval: 2e9 } },
    undefined, '1.43');
  assert.equal(old.status, 201, old.body);
  const oldId = (JSON.parse(old.body) as { Id: string }).Id;
  const inspected = JSON.parse(await apiGet(daemon, `/v1.45/containers/${oldId}/json`)) as { Config: { Healthcheck: { StartInterval: number } } };
  assert.equal(inspected.Config.Healthcheck.StartInterval, 0);
  await dockerOk(daemon, ['rm', oldId]);
  const unknown = await fetchCreate(daemon, { Image: 'busybox', Healthcheck: { Test: ['CURL', 'x'] } });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body, /unknown healthcheck type 'CURL'/);
});

test('health is kept across a daemon restart and starts again from "starting"', { skip }, async () => {
  const name = `keep-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', name, '--restart', 'always', '--health-cmd', 'true', '--health-interval', '300ms',
    'busybox', 'sleep', '600']);
  await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'healthy', 15_000);
  await stopBerthd(daemon);
  daemon = await startBerthd({ dir: daemon.dir, token: daemon.token });
  // until berthd has started it again, the stopped run's checks read "unhealthy"
  await waitFor(() => inspectState(daemon, name, '{{.State.Running}}'), (running) => running === 'true', 15_000);
  const restarted = await healthOf(daemon, name);
  assert.ok(restarted?.Status === 'starting' || restarted?.Status === 'healthy', JSON.stringify(restarted));
  assert.ok((restarted?.Log?.length ?? 0) >= 1, 'the log of the earlier run is kept');
  await waitFor(() => healthOf(daemon, name), (h) => h?.Status === 'healthy', 15_000);
  await dockerOk(daemon, ['rm', '-f', name]);
});

async function fetchCreate(d: Berthd, body: object, name?: string, version = '1.45'): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: `/v${version}/containers/create${name ? `?name=${name}` : ''}`, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
