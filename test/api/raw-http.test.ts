// Raw HTTP against berthd, for what clients do not exercise on their own: /_ping with its
// headers, every API version from 1.24 to the newest accepted (and the neighbours refused),
// answers shaped by version, and hostile input (malformed JSON, wrong types, a huge body,
// invalid names, archive paths leaving the root, an ambiguous id prefix): a 4xx naming what
// was wrong and nothing changed. Clients that hang up mid-stream leave no descriptor behind.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { dockerOk, useBerthdWithBusybox, type Berthd } from './harness.js';

const run = promisify(execFile);
const skip = requires('root', 'docker', 'overlay');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer; text: string }

function request(method: string, urlPath: string, body?: Buffer | string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: daemon.socket, method, path: urlPath,
      headers: { ...(body !== undefined && !headers['Content-Type'] ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { const all = Buffer.concat(chunks); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString() }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function json<T>(answer: Answer): T {
  return JSON.parse(answer.text) as T;
}

async function containerIds(): Promise<string[]> {
  return json<Array<{ Id: string }>>(await request('GET', '/containers/json?all=1')).map((c) => c.Id).sort();
}

/** open a streaming request, wait for the first bytes of its answer, then hang up */
async function hangUpAfterFirstBytes(method: string, urlPath: string, headers: http.OutgoingHttpHeaders = {}): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ socketPath: daemon.socket, method, path: urlPath, headers }, (res) => {
      res.once('data', () => { req.destroy(); resolve(); });
    });
    req.on('upgrade', (_res, socket) => { socket.destroy(); resolve(); });
    req.on('error', (err) => { if (!req.destroyed) reject(err); });
    req.end();
  });
}

async function openFds(): Promise<number> {
  const pid = daemon.process.pid;
  assert.ok(pid);
  return (await readdir(`/proc/${pid}/fd`)).length;
}

describe('berthd over raw HTTP', { skip, timeout: 120_000 }, () => {
  test('/_ping GET and HEAD carry API-Version; every version 1.24..1.55 is served, 1.23 and 1.56 refused', async () => {
    for (const url of ['/_ping', '/v1.24/_ping', '/v1.55/_ping']) {
      const get = await request('GET', url);
      assert.deepEqual([get.status, get.text], [200, 'OK'], url);
      assert.equal(get.headers['api-version'], '1.55');
      assert.equal(get.headers['ostype'], 'linux');
      const head = await request('HEAD', url);
      assert.deepEqual([head.status, head.text, head.headers['api-version']], [200, '', '1.55'], url);
    }
    for (let minor = 24; minor <= 55; minor++) {
      const answer = await request('GET', `/v1.${minor}/version`);
      assert.equal(answer.status, 200, `1.${minor}: ${answer.text}`);
      assert.equal(json<{ ApiVersion: string; MinAPIVersion: string }>(answer).MinAPIVersion, '1.24');
    }
    const old = await request('GET', '/v1.23/version');
    assert.equal(old.status, 400);
    assert.match(json<{ message: string }>(old).message, /client version 1\.23 is too old\. Minimum supported API version is 1\.24/);
    const future = await request('GET', '/v1.56/version');
    assert.equal(future.status, 400);
    assert.match(json<{ message: string }>(future).message, /1\.56 is too new/);
    assert.equal((await request('GET', '/vabc/version')).status, 404, 'not a version prefix: no such route');
  });

  test('answers are shaped by the version asked', async () => {
    const id = await dockerOk(daemon, ['create', '--label', `raw=${daemon.token}`, 'busybox', 'true']);
    const inspect = async (v: string): Promise<{ NetworkSettings: Record<string, unknown> }> => json(await request('GET', `/v${v}/containers/${id}/json`));
    assert.ok('IPAddress' in (await inspect('1.41')).NetworkSettings, 'the legacy fields before 1.52');
    assert.ok('Networks' in (await inspect('1.55')).NetworkSettings);
    assert.ok(!('IPAddress' in (await inspect('1.55')).NetworkSettings), 'dropped in 1.52');
    const image = async (v: string): Promise<Record<string, unknown> & { Config: Record<string, unknown> }> => json(await request('GET', `/v${v}/images/busybox/json`));
    assert.ok('VirtualSize' in await image('1.41') && 'ContainerConfig' in await image('1.41'));
    assert.equal((await image('1.41')).Config['Tty'], false, 'container-only Config fields before 1.50');
    assert.ok(!('VirtualSize' in await image('1.44')));
    assert.ok(!('ContainerConfig' in await image('1.45')));
    assert.ok(!('Tty' in (await image('1.50')).Config));
    const listed = async (v: string): Promise<Array<Record<string, unknown>>> => json(await request('GET', `/v${v}/containers/json?all=1`));
    assert.ok('Health' in ((await listed('1.55'))[0] ?? {}) && !('Health' in ((await listed('1.41'))[0] ?? {})));
    const since = Math.floor(Date.now() / 1000) - 60;
    const events = async (v: string): Promise<Array<Record<string, unknown>>> => (await request('GET',
      `/v${v}/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ label: [`raw=${daemon.token}`] }))}`))
      .text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal((await events('1.41'))[0]?.['status'], 'create', 'status/id/from until 1.51');
    assert.ok(!('status' in ((await events('1.55'))[0] ?? {})));
    const df = async (v: string): Promise<Record<string, unknown>> => json(await request('GET', `/v${v}/system/df`));
    assert.ok('LayersSize' in await df('1.41') && !('ImageUsage' in await df('1.41')));
    assert.ok('LayersSize' in await df('1.52') && 'ImageUsage' in await df('1.52'));
    assert.ok(!('LayersSize' in await df('1.55')));
    assert.equal((await df('1.55') as { ContainerUsage: { TotalCount: number } }).ContainerUsage.TotalCount, 1);
    await dockerOk(daemon, ['rm', id]);
  });

  test('hostile bodies and names: 400 naming what was wrong, nothing created', async () => {
    const before = await containerIds();
    const malformed = await request('POST', '/containers/create', '{"Image": "busybox", ');
    assert.equal(malformed.status, 400, malformed.text);
    assert.match(json<{ message: string }>(malformed).message, /json/i);
    const wrongType = await request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: 5 }));
    assert.equal(wrongType.status, 400, wrongType.text);
    assert.match(json<{ message: string }>(wrongType).message, /Cmd/);
    const nested = await request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Memory: 'lots' } }));
    assert.equal(nested.status, 400, nested.text);
    assert.match(json<{ message: string }>(nested).message, /Memory/);
    const huge = await request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Env: [`A=${'x'.repeat(6 * 1024 * 1024)}`] }));
    assert.equal(huge.status, 400, huge.text.slice(0, 200));
    assert.match(json<{ message: string }>(huge).message, /exceeds/);
    const notObject = await request('POST', '/containers/create', '[1,2]');
    assert.equal(notObject.status, 400);
    const badName = await request('POST', '/containers/create?name=..%2Fetc', JSON.stringify({ Image: 'busybox' }));
    assert.equal(badName.status, 400);
    assert.match(json<{ message: string }>(badName).message, /Invalid container name \(\.\.\/etc\)/);
    const badImage = await request('POST', '/containers/create', JSON.stringify({ Image: 'UPPER/Case' }));
    assert.ok(badImage.status === 400 || badImage.status === 404, badImage.text);
    const badFilters = await request('GET', '/containers/json?filters=%7Bnot-json');
    assert.equal(badFilters.status, 400);
    const badQuery = await request('POST', '/containers/nosuch/stop?t=soon');
    assert.equal(badQuery.status, 400);
    assert.deepEqual(await containerIds(), before, 'nothing was created');
    assert.equal((await request('GET', '/_ping')).status, 200, 'the daemon still answers');
  });

  test('archive paths stay inside the container root, through .. and symlinks, both ways', async () => {
    const marker = `/tmp/berth-raw-${daemon.token}`;
    await writeFile(marker, 'host secret\n');
    const id = await dockerOk(daemon, ['run', '-d', 'busybox', 'sh', '-c', 'ln -s /../../../../../../tmp /hostlink; sleep 60']);
    try {
      for (let i = 0; i < 50 && (await request('HEAD', `/containers/${id}/archive?path=/hostlink`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
      const viaDots = await request('GET', `/containers/${id}/archive?path=${encodeURIComponent(`/../../../../..${marker}`)}`);
      assert.equal(viaDots.status, 404, '.. is resolved inside the root, where the file does not exist');
      const viaLink = await request('GET', `/containers/${id}/archive?path=${encodeURIComponent(`/hostlink/${path.basename(marker)}`)}`);
      assert.equal(viaLink.status, 404, 'an absolute symlink is resolved inside the root');

      const dir = path.join(daemon.dir, 'raw-archive');
      await run('mkdir', ['-p', path.join(dir, 'in')]);
      await writeFile(path.join(dir, 'in', 'planted'), 'planted\n');
      await run('tar', ['-C', path.join(dir, 'in'), '-cf', path.join(dir, 'plain.tar'), 'planted']);
      const putLink = await request('PUT', `/containers/${id}/archive?path=/hostlink`, await readFile(path.join(dir, 'plain.tar')),
        { 'Content-Type': 'application/x-tar' });
      assert.equal(putLink.status, 200, putLink.text);
      assert.equal(existsSync('/tmp/planted'), false, 'extracting through the symlink stays in the container');
      assert.equal(await dockerOk(daemon, ['exec', id, 'cat', '/tmp/planted']), 'planted');

      // a tar entry named ../../... must not land outside the root either
      await run('tar', ['-C', path.join(dir, 'in'), '-cf', path.join(dir, 'dots.tar'), '--transform', `s|planted|../../../../../../tmp/berth-raw-${daemon.token}-dots|`, 'planted']);
      const putDots = await request('PUT', `/containers/${id}/archive?path=/`, await readFile(path.join(dir, 'dots.tar')),
        { 'Content-Type': 'application/x-tar' });
      assert.ok(putDots.status === 400 || putDots.status === 200, putDots.text);
      assert.equal(existsSync(`/tmp/berth-raw-${daemon.token}-dots`), false, 'no file was written outside the root');
      const noPath = await request('GET', `/containers/${id}/archive`);
      assert.equal(noPath.status, 400);
    } finally {
      await dockerOk(daemon, ['rm', '-f', id]);
      await rm(marker, { force: true });
      await rm(`/tmp/berth-raw-${daemon.token}-dots`, { force: true });
    }
  });

  test('an id prefix matching two containers is refused, and changes nothing', async () => {
    const ids: string[] = [];
    let shared: string | undefined;
    // 17 ids: two of them share their first hex digit
    for (let i = 0; i < 17 && shared === undefined; i++) {
      const id = await dockerOk(daemon, ['create', 'busybox', 'true']);
      shared = ids.find((other) => other[0] === id[0])?.[0];
      ids.push(id);
    }
    assert.ok(shared);
    try {
      const before = await containerIds();
      const inspect = await request('GET', `/containers/${shared}/json`);
      assert.equal(inspect.status, 400, inspect.text);
      assert.match(json<{ message: string }>(inspect).message, new RegExp(shared));
      const removal = await request('DELETE', `/containers/${shared}?force=1`);
      assert.equal(removal.status, 400, removal.text);
      const rename = await request('POST', `/containers/${shared}/rename?name=raw-${daemon.token}`);
      assert.equal(rename.status, 400);
      assert.deepEqual(await containerIds(), before);
    } finally {
      await dockerOk(daemon, ['rm', ...ids]);
    }
  });

  test('clients hanging up mid-stream (logs -f, attach, events, stats, export) leave no descriptor open', async () => {
    const id = await dockerOk(daemon, ['run', '-d', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    const hangUps = async (): Promise<void> => {
      await hangUpAfterFirstBytes('GET', `/containers/${id}/logs?follow=1&stdout=1`);
      await hangUpAfterFirstBytes('POST', `/containers/${id}/attach?stream=1&stdout=1`, { Connection: 'Upgrade', Upgrade: 'tcp' });
      await hangUpAfterFirstBytes('GET', '/events?since=0');
      await hangUpAfterFirstBytes('GET', `/containers/${id}/stats?stream=1`);
      await hangUpAfterFirstBytes('GET', `/containers/${id}/export`);
    };
    try {
      await hangUps();
      await new Promise((r) => setTimeout(r, 500));
      const baseline = await openFds();
      for (let i = 0; i < 3; i++) await hangUps();
      let now = await openFds();
      for (let i = 0; i < 50 && now > baseline; i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = await openFds();
      }
      assert.ok(now <= baseline, `berthd holds ${now} descriptors after the hang-ups, ${baseline} before`);
      assert.equal(await dockerOk(daemon, ['inspect', '-f', '{{.State.Running}}', id]), 'true');
    } finally {
      await dockerOk(daemon, ['rm', '-f', id]);
    }
  });

  test('rm -f of a running container: a waiting client gets its exit, events say kill, die, destroy', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await dockerOk(daemon, ['run', '-d', '--label', `rmf=${daemon.token}`, 'busybox', 'sleep', '60']);
    const waiting = request('POST', `/containers/${id}/wait`);
    await new Promise((r) => setTimeout(r, 300));
    await dockerOk(daemon, ['rm', '-f', id]);
    const waited = await Promise.race([waiting, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
    assert.ok(waited, 'the wait answered');
    assert.equal(json<{ StatusCode: number }>(waited).StatusCode, 137);
    const events = (await request('GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ label: [`rmf=${daemon.token}`] }))}`))
      .text.trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.deepEqual(events.filter((a) => a !== 'create' && a !== 'start'), ['kill', 'die', 'destroy']);
  });

  test('an export of a stopped container that the client abandons releases the root it mounted', async () => {
    const id = await dockerOk(daemon, ['create', 'busybox', 'true']);
    const mounted = async (): Promise<boolean> => (await readFile('/proc/self/mountinfo', 'utf8')).includes(id);
    for (let i = 0; i < 50 && await mounted(); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      await hangUpAfterFirstBytes('GET', `/containers/${id}/export`);
      let still = await mounted();
      for (let i = 0; i < 50 && still; i++) {
        await new Promise((r) => setTimeout(r, 100));
        still = await mounted();
      }
      assert.equal(still, false, 'the root is unmounted once the export stopped');
    } finally {
      await dockerOk(daemon, ['rm', id]);
    }
  });
});
