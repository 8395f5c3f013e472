// Volumes through a private berthd and the docker CLI: named (plain, tmpfs, bind device),
// anonymous from an image VOLUME with copy-up, --mount, --tmpfs, --volumes-from, rm -v,
// prune, data surviving container removal and a daemon restart, and nothing leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, startBerthd, useBerthdWithBusybox, stopBerthd, type Berthd } from '../api/harness.js';

const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

test('named volume keeps data across containers, :ro is read-only, in-use rm refused', { skip }, async () => {
  const name = `berth-v-${daemon.token}`;
  assert.equal(await dockerOk(daemon, ['volume', 'create', name]), name);
  await dockerOk(daemon, ['run', '--rm', '-v', `${name}:/data`, 'busybox', 'sh', '-c', 'echo kept > /data/f']);
  assert.equal(await dockerOk(daemon, ['run', '--rm', '-v', `${name}:/data:ro`, 'busybox', 'cat', '/data/f']), 'kept');
  const ro = await docker(daemon, ['run', '--rm', '-v', `${name}:/data:ro`, 'busybox', 'touch', '/data/g']);
  assert.notEqual(ro.code, 0);
  const inspect = JSON.parse(await dockerOk(daemon, ['volume', 'inspect', name])) as Array<{ Mountpoint: string; Driver: string }>;
  assert.equal(inspect[0]?.Driver, 'local');
  assert.equal(await readFile(path.join(inspect[0]?.Mountpoint ?? '', 'f'), 'utf8'), 'kept\n');
  await dockerOk(daemon, ['create', '--name', `user-${daemon.token}`, '-v', `${name}:/data`, 'busybox', 'true']);
  const inUse = await docker(daemon, ['volume', 'rm', name]);
  assert.notEqual(inUse.code, 0);
  assert.match(inUse.stderr, /volume is in use/);
  await dockerOk(daemon, ['rm', `user-${daemon.token}`]);
  await dockerOk(daemon, ['volume', 'rm', name]);
  assert.match((await docker(daemon, ['volume', 'inspect', name])).stderr, /no such volume/i);
});

test('local driver options: tmpfs and a bind device', { skip }, async () => {
  const tmpfs = `berth-t-${daemon.token}`;
  await dockerOk(daemon, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', tmpfs]);
  const mounts = await dockerOk(daemon, ['run', '--rm', '-v', `${tmpfs}:/t`, 'busybox', 'grep', ' /t ', '/proc/mounts']);
  assert.match(mounts, /^tmpfs \/t tmpfs /);
  const device = path.join(daemon.dir, 'bind-device');
  await mkdir(device);
  await writeFile(path.join(device, 'host-file'), 'from host\n');
  const bound = `berth-b-${daemon.token}`;
  await dockerOk(daemon, ['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${device}`, bound]);
  assert.equal(await dockerOk(daemon, ['run', '--rm', '-v', `${bound}:/b`, 'busybox', 'cat', '/b/host-file']), 'from host');
  await dockerOk(daemon, ['volume', 'rm', tmpfs, bound]);
  const bad = await docker(daemon, ['volume', 'create', '--opt', 'colour=red', `berth-x-${daemon.token}`]);
  assert.match(bad.stderr, /invalid option key/);
});

test('image VOLUME: anonymous volume filled from the image, removed by rm -v', { skip }, async () => {
  await dockerOk(daemon, ['run', '--name', `seed-${daemon.token}`, 'busybox', 'sh', '-c', 'mkdir /data && echo seeded > /data/s']);
  await dockerOk(daemon, ['commit', '--change', 'VOLUME /data', `seed-${daemon.token}`, `vol-image-${daemon.token}`]);
  await dockerOk(daemon, ['rm', `seed-${daemon.token}`]);
  const ctr = `anon-${daemon.token}`;
  assert.equal(await dockerOk(daemon, ['run', '--name', ctr, `vol-image-${daemon.token}`, 'cat', '/data/s']), 'seeded');
  const volumes = (await dockerOk(daemon, ['volume', 'ls', '-q'])).split('\n').filter(Boolean);
  assert.equal(volumes.length, 1);
  assert.match(volumes[0] ?? '', /^[0-9a-f]{64}$/);
  await dockerOk(daemon, ['start', '-a', ctr]);
  assert.equal((await dockerOk(daemon, ['volume', 'ls', '-q'])).split('\n').filter(Boolean).length, 1, 'a restart reuses the volume');
  await dockerOk(daemon, ['rm', '-v', ctr]);
  assert.equal(await dockerOk(daemon, ['volume', 'ls', '-q']), '');
  await dockerOk(daemon, ['rmi', `vol-image-${daemon.token}`]);
});

test('--mount volume/bind/tmpfs, --tmpfs, --volumes-from, -v creating a missing host dir', { skip }, async () => {
  const name = `berth-m-${daemon.token}`;
  const hostDir = path.join(daemon.dir, 'created-by-v');
  await dockerOk(daemon, ['run', '--name', `src-${daemon.token}`, '--mount', `type=volume,src=${name},dst=/m`, '-v', `${hostDir}:/h`,
    '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'echo shared > /m/x && echo host > /h/y && grep -q " /scratch tmpfs" /proc/mounts']);
  assert.equal(await readFile(path.join(hostDir, 'y'), 'utf8'), 'host\n');
  const from = await dockerOk(daemon, ['run', '--rm', '--volumes-from', `src-${daemon.token}:ro`, 'busybox', 'sh', '-c',
    'cat /m/x /h/y; touch /m/z 2>/dev/null && echo writable || echo readonly']);
  assert.deepEqual(from.split('\n'), ['shared', 'host', 'readonly']);
  const missing = await docker(daemon, ['run', '--rm', '--mount', `type=bind,src=${daemon.dir}/nope,dst=/n`, 'busybox', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /bind source path does not exist/);
  const tmp = await dockerOk(daemon, ['run', '--rm', '--mount', 'type=tmpfs,dst=/tt,tmpfs-size=65536', 'busybox', 'grep', ' /tt ', '/proc/mounts']);
  assert.match(tmp, /tmpfs \/tt tmpfs .*size=64k/);
  await dockerOk(daemon, ['rm', '-v', `src-${daemon.token}`]);
  assert.equal(await dockerOk(daemon, ['volume', 'ls', '-q']), name, 'a named volume outlives rm -v');
  await dockerOk(daemon, ['volume', 'rm', name]);
});

test('data in a volume survives a daemon restart; prune removes only unused volumes', { skip }, async () => {
  const name = `berth-r-${daemon.token}`;
  await dockerOk(daemon, ['run', '--rm', '-v', `${name}:/d`, 'busybox', 'sh', '-c', 'echo durable > /d/f']);
  await stopBerthd(daemon, 'SIGKILL');
  daemon = await startBerthd({ dir: daemon.dir, token: daemon.token });
  assert.equal(await dockerOk(daemon, ['run', '--rm', '-v', `${name}:/d`, 'busybox', 'cat', '/d/f']), 'durable');
  const kept = `berth-k-${daemon.token}`;
  await dockerOk(daemon, ['create', '--name', `keep-${daemon.token}`, '-v', `${kept}:/k`, 'busybox', 'true']);
  await dockerOk(daemon, ['start', `keep-${daemon.token}`]);
  // docker 23+ prunes only anonymous volumes unless --all; older clients (API < 1.42) prune all
  const help = await docker(daemon, ['volume', 'prune', '--help']);
  const pruned = await dockerOk(daemon, ['volume', 'prune', '-f', ...(help.stdout.includes('--all') ? ['--all'] : [])]);
  assert.match(pruned, new RegExp(name));
  assert.doesNotMatch(pruned, new RegExp(kept));
  assert.equal(await dockerOk(daemon, ['volume', 'ls', '-q']), kept);
  await dockerOk(daemon, ['rm', '-f', `keep-${daemon.token}`]);
  await dockerOk(daemon, ['volume', 'rm', kept]);
});
