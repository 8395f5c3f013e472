// Behaviour checked against a private dockerd 20.10 (Debian's docker.io) through the docker CLI and
// brought in line: volume events around a run, resource limits this kernel cannot apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, useBerthdWithBusybox, type Berthd } from './harness.js';

const skip = requires('root', 'docker', 'overlay');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

const eventSchema = z.object({
  Type: z.string(), Action: z.string(),
  Actor: z.object({ ID: z.string(), Attributes: z.record(z.string(), z.string()).nullable().optional() }),
});
type Event = z.infer<typeof eventSchema>;

/** The events recorded from `since` (unix seconds) until now, oldest first. */
async function eventsSince(since: number): Promise<Event[]> {
  const out = await dockerOk(daemon, ['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--format', '{{json .}}']);
  return out.split('\n').filter(Boolean).map((line) => eventSchema.parse(JSON.parse(line)));
}

/** "Type Action" of the events about one container or the volumes it used, in order. */
function storyOf(events: Event[], containerId: string, volumes: readonly string[]): string[] {
  return events.filter((e) => e.Actor.ID === containerId || (e.Type === 'volume' && volumes.includes(e.Actor.ID)
    && (e.Actor.Attributes?.['container'] ?? containerId) === containerId)).map((e) => `${e.Type} ${e.Action}`);
}

test('volume mount and unmount events around a run, as dockerd emits them; none for a bind mount', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const volume = `berth-ev-${daemon.token}`;
  const bindDir = await mkdtemp(path.join(os.tmpdir(), `berth-ev-bind-${daemon.token}-`));
  try {
    const named = await dockerOk(daemon, ['create', '--network', 'none', '-v', `${volume}:/data:ro`, 'busybox', 'true']);
    await dockerOk(daemon, ['start', '-a', named]);
    await dockerOk(daemon, ['start', '-a', named]);
    await dockerOk(daemon, ['rm', named]);
    const bound = await dockerOk(daemon, ['create', '--network', 'none', '-v', `${bindDir}:/b`, 'busybox', 'true']);
    await dockerOk(daemon, ['start', '-a', bound]);
    await dockerOk(daemon, ['rm', bound]);
    const events = await eventsSince(since);

    // made at the container's create, as dockerd does (start -a's attach events are not compared)
    const notCompared = new Set(['container attach']);
    assert.deepEqual(storyOf(events, named, [volume]).filter((e) => !notCompared.has(e)), [
      'volume create', 'container create', 'volume mount', 'container start', 'container die', 'volume unmount',
      'volume mount', 'container start', 'container die', 'volume unmount', 'container destroy',
    ]);
    const mount = events.find((e) => e.Action === 'mount' && e.Actor.ID === volume);
    assert.deepEqual(mount?.Actor.Attributes, { container: named, destination: '/data', driver: 'local', propagation: '', 'read/write': 'false' });
    const unmount = events.find((e) => e.Action === 'unmount' && e.Actor.ID === volume);
    assert.deepEqual(unmount?.Actor.Attributes, { container: named, driver: 'local' });
    assert.deepEqual(storyOf(events, bound, []).filter((e) => !notCompared.has(e)), ['container create', 'container start', 'container die', 'container destroy']);
    assert.ok(!events.some((e) => e.Type === 'volume' && e.Actor.Attributes?.['container'] === bound), 'no volume event for a bind mount');
  } finally {
    await docker(daemon, ['volume', 'rm', volume]);
    await rm(bindDir, { recursive: true, force: true });
  }
});

test('run --rm takes its anonymous volume with it, after its unmount and before its destroy', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const before = (await dockerOk(daemon, ['volume', 'ls', '-q'])).split('\n').filter(Boolean);
  await dockerOk(daemon, ['run', '--rm', '--network', 'none', '--mount', 'type=volume,dst=/anon', '--name', `berth-ev-rm-${daemon.token}`, 'busybox', 'true']);
  assert.deepEqual((await dockerOk(daemon, ['volume', 'ls', '-q'])).split('\n').filter(Boolean), before, 'the anonymous volume is gone');
  const events = await eventsSince(since);
  const created = events.find((e) => e.Type === 'container' && e.Action === 'create' && e.Actor.Attributes?.['name'] === `berth-ev-rm-${daemon.token}`);
  assert.ok(created, 'the container was created');
  const anonymous = events.find((e) => e.Type === 'volume' && e.Action === 'mount' && e.Actor.Attributes?.['container'] === created.Actor.ID);
  assert.ok(anonymous, 'its anonymous volume was mounted');
  assert.equal(anonymous.Actor.Attributes?.['destination'], '/anon');
  assert.deepEqual(storyOf(events, created.Actor.ID, [anonymous.Actor.ID]), [
    'volume create', 'container create', 'container attach', 'volume mount', 'container start', 'container die',
    'volume unmount', 'volume destroy', 'container destroy',
  ]);
});

test('a limit this kernel has no cgroup file for is dropped with dockerd\'s warning, and inspect shows it unset', { skip }, async () => {
  // cgroup v1 without the CFQ/BFQ weight files (this machine): dockerd 20.10 warns and drops both
  const weightFiles = existsSync('/sys/fs/cgroup/blkio/blkio.weight');
  const created = await docker(daemon, ['create', '--network', 'none', '--blkio-weight', '300', '--blkio-weight-device', '/dev/null:200',
    '--oom-kill-disable', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  try {
    assert.match(created.stderr, /OOM killer is disabled for the container, but no memory limit is set/);
    const inspected = z.object({ BlkioWeight: z.number(), BlkioWeightDevice: z.array(z.unknown()).nullable(), OomKillDisable: z.boolean().nullable() })
      .parse(JSON.parse(await dockerOk(daemon, ['inspect', id, '--format', '{{json .HostConfig}}'])));
    assert.equal(inspected.OomKillDisable, true);
    if (weightFiles) {
      assert.equal(inspected.BlkioWeight, 300);
      return;
    }
    assert.match(created.stderr, /WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
    assert.match(created.stderr, /WARNING: Your kernel does not support Block I\/O weight_device or the cgroup is not mounted\. Weight-device discarded\./);
    assert.equal(inspected.BlkioWeight, 0);
    assert.deepEqual(inspected.BlkioWeightDevice, []);
    // and it runs: the dropped weight is not handed to the runtime
    await dockerOk(daemon, ['start', '-a', id]);
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
});

test('limits this kernel applies are kept without a warning', { skip }, async () => {
  const created = await docker(daemon, ['create', '--network', 'none', '--memory', '64m', '--memory-reservation', '32m', '--memory-swappiness', '10',
    '--pids-limit', '50', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', 'busybox', 'true']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  try {
    assert.doesNotMatch(created.stderr, /WARNING/);
    const host = z.object({ Memory: z.number(), PidsLimit: z.number().nullable(), MemorySwappiness: z.number().nullable(), CpuShares: z.number() })
      .parse(JSON.parse(await dockerOk(daemon, ['inspect', id, '--format', '{{json .HostConfig}}'])));
    assert.deepEqual(host, { Memory: 64 << 20, PidsLimit: 50, MemorySwappiness: 10, CpuShares: 512 });
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
});

test('resource values no kernel takes are refused by name, as dockerd refuses them', { skip }, async () => {
  const refused: Array<[string[], RegExp]> = [
    [['--cpu-period', '500'], /CPU cfs period can not be less than 1ms/],
    [['--memory-reservation', '1m'], /Minimum memory reservation allowed is 6MB/],
    [['--cpuset-cpus', '4095'], /Requested CPUs are not available - requested 4095/],
  ];
  for (const [flags, message] of refused) {
    const result = await docker(daemon, ['create', '--network', 'none', ...flags, 'busybox', 'true']);
    assert.notEqual(result.code, 0, flags.join(' '));
    assert.match(result.stderr, message);
  }
});

const mountSchema = z.object({
  Type: z.string(), Name: z.string().optional(), Source: z.string(), Destination: z.string(), Driver: z.string().optional(),
  Mode: z.string(), RW: z.boolean(), Propagation: z.string(),
});
const inspectSchema = z.array(z.object({
  Mounts: z.array(mountSchema),
  HostConfig: z.object({ ShmSize: z.number(), MemorySwap: z.number(), PidsLimit: z.number().nullable(), MemorySwappiness: z.number().nullable() }),
  NetworkSettings: z.object({ Networks: z.record(z.string(), z.object({ NetworkID: z.string(), IPAddress: z.string() })) }),
}));

test('inspect as dockerd 20.10 answers it: Mounts (volume names and host paths, no --tmpfs), defaults filled in, the none network listed', { skip }, async () => {
  const bindDir = await mkdtemp(path.join(os.tmpdir(), `berth-insp-bind-${daemon.token}-`));
  const volume = `berth-insp-${daemon.token}`;
  const id = await dockerOk(daemon, ['create', '--network', 'none', '-m', '64m', '-v', `${volume}:/named`, '-v', '/anon', '--mount', 'type=volume,dst=/mounted',
    '--mount', 'type=tmpfs,dst=/tm', '--tmpfs', '/t2', '-v', `${bindDir}:/b:ro`, 'busybox', 'true']);
  try {
    const [created] = inspectSchema.parse(JSON.parse(await dockerOk(daemon, ['inspect', id])));
    assert.deepEqual(Object.keys(created?.NetworkSettings.Networks ?? {}), ['none'], 'a created container lists its network');
    assert.equal(await dockerOk(daemon, ['volume', 'ls', '-q', '--filter', `name=${volume}`]), volume, 'the volume exists from the create on');
    assert.deepEqual(created?.HostConfig, { ShmSize: 64 << 20, MemorySwap: 128 << 20, PidsLimit: null, MemorySwappiness: null });
    await dockerOk(daemon, ['start', '-a', id]);
    const [ran] = inspectSchema.parse(JSON.parse(await dockerOk(daemon, ['inspect', id])));
    const byDestination = new Map((ran?.Mounts ?? []).map((m) => [m.Destination, m]));
    assert.deepEqual([...byDestination.keys()].sort(), ['/anon', '/b', '/mounted', '/named', '/tm'], '--tmpfs is not a mount point in dockerd\'s list');
    const mountpoint = await dockerOk(daemon, ['volume', 'inspect', volume, '--format', '{{.Mountpoint}}']);
    assert.deepEqual(byDestination.get('/named'), { Type: 'volume', Name: volume, Source: mountpoint, Destination: '/named', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    for (const anonymous of ['/anon', '/mounted']) {
      const m = byDestination.get(anonymous);
      assert.match(m?.Name ?? '', /^[0-9a-f]{64}$/, `${anonymous} has its generated name`);
      assert.equal(m?.Source, await dockerOk(daemon, ['volume', 'inspect', m?.Name ?? '', '--format', '{{.Mountpoint}}']));
      assert.equal(m?.Mode, anonymous === '/mounted' ? 'z' : '');
    }
    assert.deepEqual(byDestination.get('/b'), { Type: 'bind', Source: bindDir, Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    assert.deepEqual(Object.keys(ran?.NetworkSettings.Networks ?? {}), ['none']);
    // an image without Env and a create without -e: null, as dockerd answers (not [])
    assert.equal(await dockerOk(daemon, ['inspect', id, '--format', '{{json .Config.Env}}']), 'null');
  } finally {
    await docker(daemon, ['rm', '-f', '-v', id]);
    await docker(daemon, ['volume', 'rm', volume]);
    await rm(bindDir, { recursive: true, force: true });
  }
});

test('docker volume create reports every create, also of a volume that is there (dockerd does)', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const volume = `berth-dup-${daemon.token}`;
  await dockerOk(daemon, ['volume', 'create', volume]);
  await dockerOk(daemon, ['volume', 'create', volume]);
  await dockerOk(daemon, ['volume', 'rm', volume]);
  const story = (await eventsSince(since)).filter((e) => e.Actor.ID === volume).map((e) => `${e.Type} ${e.Action}`);
  assert.deepEqual(story, ['volume create', 'volume create', 'volume destroy']);
});

test('update as dockerd: memory above the recorded swap limit is refused (409), an unsupported limit is dropped with its warning', { skip }, async () => {
  const id = await dockerOk(daemon, ['run', '-d', '--network', 'none', '-m', '64m', 'busybox', 'sleep', '60']);
  try {
    const above = await docker(daemon, ['update', '-m', '256m', id]);
    assert.notEqual(above.code, 0);
    assert.match(above.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    await dockerOk(daemon, ['update', '-m', '100m', id]);
    assert.equal(await dockerOk(daemon, ['inspect', id, '--format', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}']), `${100 << 20} ${128 << 20}`);
    const memsw = '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes';
    if (existsSync(memsw)) {
      const cgroup = await dockerOk(daemon, ['exec', id, 'cat', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes']);
      assert.equal(cgroup, String(128 << 20), 'the running container keeps its swap limit');
    }
    // the fields an update leaves out (sent as 0) keep their values
    await dockerOk(daemon, ['update', '--cpu-shares', '512', id]);
    assert.equal(await dockerOk(daemon, ['inspect', id, '--format', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}}']),
      `${100 << 20} ${128 << 20} 512`);
    if (!existsSync('/sys/fs/cgroup/blkio/blkio.weight')) {
      const weight = await docker(daemon, ['update', '--blkio-weight', '300', id]);
      assert.equal(weight.code, 0, weight.stderr);
      assert.match(weight.stdout + weight.stderr, /Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
      assert.equal(await dockerOk(daemon, ['inspect', id, '--format', '{{.HostConfig.BlkioWeight}}']), '0');
    }
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
});
