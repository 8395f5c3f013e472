// A corrupted state file found at startup: kill -9 berthd, truncate one container's record,
// write garbage into a network record and a volume record, start berthd again. The bad
// records are set aside (<name>.corrupt-<time>), logged and listed by `system check`;
// every other container, network and volume still loads, and the restart-always one runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { requires } from '../support/requirements.js';
import { dockerOk, startBerthd, useBerthdWithBusybox, stopBerthd, type Berthd } from '../api/harness.js';
import { api } from '../system/support.js';

const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

async function waitForState(name: string, wanted: string): Promise<string> {
  let current = '';
  for (let i = 0; i < 120 && current !== wanted; i++) {
    current = await dockerOk(daemon, ['inspect', '--format', '{{.State.Status}}', name]).catch(() => '');
    if (current !== wanted) await new Promise((r) => setTimeout(r, 250));
  }
  return current;
}

const checkSchema = z.object({ Findings: z.array(z.object({ Kind: z.string(), Resource: z.string(), Repairable: z.boolean() })) });

test('corrupt container, network and volume records are set aside at startup; the rest loads and runs', { skip, timeout: 180_000 }, async () => {
  const t = daemon.token;
  const broken = await dockerOk(daemon, ['run', '-d', '--name', `broken-${t}`, '--restart', 'always', 'busybox', 'sleep', '600']);
  await dockerOk(daemon, ['run', '-d', '--name', `healthy-${t}`, '--restart', 'always', '-v', `good-${t}:/d`, 'busybox', 'sleep', '600']);
  await dockerOk(daemon, ['create', '--name', `idle-${t}`, 'busybox', 'true']);
  const badNet = await dockerOk(daemon, ['network', 'create', `badnet-${t}`]);
  await dockerOk(daemon, ['network', 'create', `goodnet-${t}`]);
  await dockerOk(daemon, ['volume', 'create', `badvol-${t}`]);

  await stopBerthd(daemon, 'SIGKILL');
  const containers = path.join(daemon.dataRoot, 'containers');
  await truncate(path.join(containers, broken, 'config.v2.json'), 40);
  await writeFile(path.join(daemon.dataRoot, 'network', 'networks', `${badNet}.json`), 'not json at all');
  await writeFile(path.join(daemon.dataRoot, 'volumes', `badvol-${t}`, 'volume.json'), '{"Name": 7}');
  daemon = await startBerthd({ dir: daemon.dir, token: daemon.token });

  assert.equal(await waitForState(`healthy-${t}`, 'running'), 'running');
  assert.equal(await dockerOk(daemon, ['inspect', '--format', '{{.State.Status}}', `idle-${t}`]), 'created');
  const names = await dockerOk(daemon, ['ps', '-a', '--format', '{{.Names}}']);
  assert.doesNotMatch(names, new RegExp(`broken-${t}`));
  const log = await daemon.log();
  assert.match(log, new RegExp(`container ${broken}: corrupt record config\\.v2\\.json .*set aside as .*${broken}\\.corrupt-`));
  assert.match(log, new RegExp(`volume badvol-${t}: unreadable metadata: .*set aside`));
  assert.ok((await readdir(containers)).some((e) => e.startsWith(`${broken}.corrupt-`)), 'the container record is set aside');
  // what was in it is still there for a human to read
  const aside = (await readdir(containers)).find((e) => e.startsWith(`${broken}.corrupt-`)) ?? '';
  assert.match(await readFile(path.join(containers, aside, 'config.v2.json'), 'utf8'), /^\{/);

  const networks = await dockerOk(daemon, ['network', 'ls', '--format', '{{.Name}}']);
  assert.match(networks, new RegExp(`goodnet-${t}`));
  assert.doesNotMatch(networks, new RegExp(`badnet-${t}`));
  const volumes = await dockerOk(daemon, ['volume', 'ls', '--format', '{{.Name}}']);
  assert.match(volumes, new RegExp(`good-${t}`));
  assert.doesNotMatch(volumes, new RegExp(`badvol-${t}`));

  const { body } = await api(daemon, 'POST', '/berth/system/check?repair=1');
  const corrupt = checkSchema.parse(body).Findings.filter((f) => f.Kind === 'corrupt-record');
  assert.equal(corrupt.length, 3, JSON.stringify(corrupt));
  assert.ok(corrupt.every((f) => !f.Repairable), 'set-aside records are kept for a human');
  assert.ok(corrupt.some((f) => f.Resource.includes(`${broken}.corrupt-`)));
  assert.ok(corrupt.some((f) => f.Resource.includes(`${badNet}.json.corrupt-`)));
  assert.ok(corrupt.some((f) => f.Resource.includes(`badvol-${t}/volume.json.corrupt-`)));
  // the set-aside container's writable layer is kept, not reported as a leak
  assert.ok(!checkSchema.parse(body).Findings.some((f) => f.Kind === 'snapshot'));
  await dockerOk(daemon, ['rm', '-f', `healthy-${t}`, `idle-${t}`]);
  await dockerOk(daemon, ['network', 'rm', `goodnet-${t}`]);
});
