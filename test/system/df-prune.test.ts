// `system df -v` accounts for every byte under the data root (compared with du), and
// `system prune` (docker CLI and berth CLI) removes what docker's would, with --volumes,
// -a and --filter label=/until=, printing docker's reports and total.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, useBerthdWithBusybox, type Berthd } from '../api/harness.js';
import { api, berth, berthOk } from './support.js';

const run = promisify(execFile);
const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

const dfSchema = z.object({
  LayersSize: z.number(),
  Images: z.array(z.object({ Id: z.string(), Size: z.number(), SharedSize: z.number(), Containers: z.number() })),
  Containers: z.array(z.object({ Id: z.string(), SizeRw: z.number(), SizeRootFs: z.number(), SizeMetadata: z.number() })),
  Volumes: z.array(z.object({ Name: z.string(), UsageData: z.object({ Size: z.number(), RefCount: z.number() }) })),
  BuildCache: z.array(z.object({ Size: z.number(), Shared: z.boolean() })),
  BerthOther: z.array(z.object({ Path: z.string(), Size: z.number() })),
});

/**
 * The df parts are disjoint walks of the data root; `du -sbx` walks it whole. What only du
 * counts: the data root's own directory entry and the cache-mounts directory entry (a few
 * KiB). Mounted file systems (running containers' overlay roots, tmpfs volumes) are left out
 * by both. Tolerance: 64 KiB, against several MB of real data.
 */
const TOLERANCE = 64 * 1024;

test('system df -v accounts for every byte of the data root (du within 64 KiB)', { skip, timeout: 120_000 }, async (ctx) => {
  const t = daemon.token;
  const vol = `berth-df-${t}`;
  await dockerOk(daemon, ['volume', 'create', vol]);
  await dockerOk(daemon, ['run', '--rm', '-v', `${vol}:/v`, 'busybox', 'dd', 'if=/dev/zero', 'of=/v/data', 'bs=1k', 'count=3000']);
  // a stopped container with 2 MB in its writable layer and some log lines, and a running one
  await dockerOk(daemon, ['run', '--name', `df-rw-${t}`, 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1k count=2000; seq 1 2000']);
  await dockerOk(daemon, ['run', '-d', '--name', `df-up-${t}`, '-v', `${vol}:/v`, 'busybox', 'sleep', '600']);

  const { status, body } = await api(daemon, 'GET', '/system/df');
  assert.equal(status, 200);
  const df = dfSchema.parse(body);
  const rw = df.Containers.find((c) => c.Id.length === 64 && c.SizeRw > 2_000_000);
  assert.ok(rw, 'the 2 MB written in the container shows as SizeRw');
  assert.ok(rw.SizeRootFs > rw.SizeRw, 'SizeRootFs adds the image');
  assert.ok(rw.SizeMetadata > 8000, 'the record and 2000 log lines are counted');
  const volume = df.Volumes.find((v) => v.Name === vol);
  assert.ok(volume && volume.UsageData.Size >= 3_072_000 && volume.UsageData.RefCount === 1);
  assert.equal(df.Images.find((i) => i.Containers === 2)?.SharedSize, 0, 'busybox, used by both containers, shares no layer');

  const sum = df.LayersSize + df.Containers.reduce((s, c) => s + c.SizeRw + c.SizeMetadata, 0)
    + df.Volumes.reduce((s, v) => s + Math.max(0, v.UsageData.Size), 0)
    + df.BuildCache.filter((b) => !b.Shared).reduce((s, b) => s + b.Size, 0) + df.BerthOther.reduce((s, o) => s + o.Size, 0);
  const du = Number.parseInt((await run('du', ['-sbx', daemon.dataRoot])).stdout.split('\t')[0] ?? '', 10);
  ctx.diagnostic(`du -sbx: ${du} bytes, df parts: ${sum} bytes, difference ${du - sum}`);
  assert.ok(du > 7_000_000, `du sees the data (${du})`);
  assert.ok(Math.abs(du - sum) <= TOLERANCE, `df parts add up to ${sum} bytes, du says ${du} (difference ${du - sum})`);

  // the docker CLI and berth print the four verbose tables; berth adds the rest of the data root
  const viaDocker = await dockerOk(daemon, ['system', 'df', '-v']);
  for (const heading of ['Images space usage:', 'Containers space usage:', 'Local Volumes space usage:', 'Build cache usage:']) {
    assert.ok(viaDocker.includes(heading), `docker system df -v shows ${heading}`);
  }
  const viaBerth = await berthOk(daemon, ['system', 'df', '-v']);
  assert.match(viaBerth, /REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\nbusybox\s+latest/);
  assert.match(viaBerth, new RegExp(`${vol}\\s+1\\s+3\\.\\d+MB`));
  assert.match(viaBerth, /Other berth data:\n\nPATH\s+SIZE\n/);
  assert.match(await berthOk(daemon, ['system', 'df']), /Local Volumes\s+1\s+1\s+3\.\d+MB/);
  await dockerOk(daemon, ['rm', '-f', `df-rw-${t}`, `df-up-${t}`]);
  await dockerOk(daemon, ['volume', 'rm', vol]);
});

/** Things system prune should and should not remove; returns their names. */
async function makePrunable(t: string, round: string): Promise<{ stopped: string; labelled: string; network: string; keptNetwork: string; image: string }> {
  const names = { stopped: `pr-stop-${round}-${t}`, labelled: `pr-lab-${round}-${t}`, network: `pr-net-${round}-${t}`,
    keptNetwork: `pr-keep-${round}-${t}`, image: `pr-img-${round}-${t}` };
  await dockerOk(daemon, ['run', '--name', names.stopped, '-v', '/anon', 'busybox', 'true']);
  await dockerOk(daemon, ['run', '--name', names.labelled, '--label', 'berth-prune=yes', 'busybox', 'true']);
  await dockerOk(daemon, ['network', 'create', names.network]);
  await dockerOk(daemon, ['network', 'create', '--label', 'berth-prune=no', names.keptNetwork]);
  await dockerOk(daemon, ['commit', names.stopped, names.image]);
  return names;
}

async function exists(kind: 'container' | 'network' | 'image' | 'volume', name: string): Promise<boolean> {
  return (await docker(daemon, [kind, 'inspect', name])).code === 0;
}

test('system prune through the docker CLI and berth: filters, --volumes, -a, docker\'s report', { skip, timeout: 180_000 }, async () => {
  const t = daemon.token;
  await dockerOk(daemon, ['run', '-d', '--name', `pr-up-${t}`, 'busybox', 'sleep', '600']);
  const a = await makePrunable(t, 'a');
  // a label filter limits every prune call to what carries the label (berth leaves it off the
  // build cache call, which has no labels: dockerd refuses it there, so the docker CLI fails)
  await berthOk(daemon, ['system', 'prune', '-f', '--filter', 'label=berth-prune=yes']);
  assert.equal(await exists('container', a.labelled), false);
  assert.equal(await exists('container', a.stopped), true);
  assert.equal(await exists('network', a.network), true);

  const anonymous = await dockerOk(daemon, ['volume', 'ls', '-q']);
  assert.match(anonymous, /^[0-9a-f]{64}$/, 'the stopped container\'s anonymous volume is the only one');
  const report = await dockerOk(daemon, ['system', 'prune', '-f', '--volumes']);
  assert.match(report, new RegExp(`Deleted Containers:\\n[0-9a-f]{64}\\n`));
  assert.match(report, new RegExp(`Deleted Networks:\\n(.*\\n)*${a.network}\\n`));
  assert.match(report, new RegExp(`Deleted Volumes:\\n${anonymous}\\n`));
  assert.match(report, /Total reclaimed space: \d/);
  assert.equal(await exists('container', a.stopped), false);
  assert.equal(await exists('volume', anonymous), false);
  assert.equal(await exists('network', a.keptNetwork), false, 'an unused network goes whatever its label');
  assert.equal(await exists('image', a.image), true, 'a tagged image stays without -a');
  assert.equal(await exists('container', `pr-up-${t}`), true, 'a running container stays');

  const b = await makePrunable(t, 'b');
  const until = await berth(daemon, ['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
  assert.equal(until.code, 1);
  assert.match(until.stderr, /The "until" filter is not supported with "--volumes"/);
  const berthReport = await berthOk(daemon, ['system', 'prune', '-f', '-a', '--volumes']);
  assert.match(berthReport, /^Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nDeleted Networks:\n/);
  assert.match(berthReport, new RegExp(`Deleted Images:\\n(untagged|deleted): .*${b.image}|untagged: ${a.image}`));
  assert.match(berthReport, /\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
  for (const gone of [b.stopped, b.labelled]) assert.equal(await exists('container', gone), false);
  for (const gone of [a.image, b.image]) assert.equal(await exists('image', gone), false, `-a removes unused image ${gone}`);
  assert.equal(await exists('image', 'busybox'), true, 'an image a container uses stays under -a');
  await dockerOk(daemon, ['rm', '-f', `pr-up-${t}`]);
});
