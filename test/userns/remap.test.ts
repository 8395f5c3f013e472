// --userns-remap and per-container user namespaces against a real berthd: ids inside and
// on the host, disjoint blocks freed on rm, layers shared through idmapped mounts (not
// copied), binds and volumes, and the hostile cases refused before anything is made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { cleanupBerthd, docker, dockerOk, findLeaks, importBusybox, stopBerthd, type Berthd } from '../api/harness.js';
import { berth, failedStart, makeRemapSetup, removeRemapSetup, startRemapBerthd, type RemapSetup } from './support.js';

const run = promisify(execFile);
const skip = requires('root', 'overlay', 'docker');
let setup: RemapSetup;
let daemon: Berthd;

before(async () => {
  if (skip) return;
  setup = await makeRemapSetup(4);
  daemon = await startRemapBerthd(setup, ['--userns-remap', setup.user]);
  await importBusybox(daemon);
});

after(async () => {
  if (skip || !setup) return;
  if (!daemon) { await removeRemapSetup(setup); return; }
  const ids = (await docker(daemon, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await docker(daemon, ['rm', '-f', '-v', ...ids]);
  await docker(daemon, ['volume', 'prune', '-f', '-a']);
  await stopBerthd(daemon);
  await cleanupBerthd(daemon);
  const leaks = await findLeaks(daemon);
  await removeRemapSetup(setup);
  assert.deepEqual(leaks, []);
});

/** Uid and gid lines of /proc/<pid>/status: real, effective, saved, fs. */
async function hostIds(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

async function runningPid(name: string): Promise<number> {
  return Number(await dockerOk(daemon, ['inspect', '-f', '{{.State.Pid}}', name]));
}

async function allocations(): Promise<Record<string, { uid: number; gid: number; size: number }>> {
  const state = JSON.parse(await readFile(path.join(daemon.dataRoot, 'userns', 'allocations.json'), 'utf8')) as { allocations: Record<string, { uid: number; gid: number; size: number }> };
  return state.allocations;
}

test('root inside is 0; on the host the process runs as the first id of its own block', { skip }, async () => {
  assert.equal(await dockerOk(daemon, ['run', '--rm', 'busybox', 'id', '-u']), '0');
  const id = await dockerOk(daemon, ['run', '-d', '--name', `a-${setup.token}`, 'busybox', 'sleep', '60']);
  try {
    const ids = await hostIds(await runningPid(id));
    const block = (await allocations())[id];
    assert.ok(block, 'the container has a block');
    assert.deepEqual(ids, { uid: block.uid, gid: block.gid });
    assert.ok(block.uid >= setup.base && block.uid + block.size <= setup.base + 65536 * setup.blocks, 'inside the remap user\'s range');
    assert.equal(await dockerOk(daemon, ['exec', id, 'id', '-u']), '0');
    assert.equal(await dockerOk(daemon, ['inspect', '-f', '{{.HostConfig.UsernsMode}}', id]), '');
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
});

test('two containers get disjoint blocks; rm frees them and the next container reuses the first', { skip }, async () => {
  const a = await dockerOk(daemon, ['run', '-d', 'busybox', 'sleep', '60']);
  const b = await dockerOk(daemon, ['run', '-d', 'busybox', 'sleep', '60']);
  try {
    const maps = await Promise.all([a, b].map(async (id) => (await readFile(`/proc/${await runningPid(id)}/uid_map`, 'utf8')).trim().split(/\s+/).map(Number)));
    const [[insideA, hostA, sizeA], [insideB, hostB, sizeB]] = maps as [number[], number[]];
    assert.equal(insideA, 0);
    assert.equal(insideB, 0);
    assert.ok((hostA as number) + (sizeA as number) <= (hostB as number) || (hostB as number) + (sizeB as number) <= (hostA as number), `disjoint: ${maps.join(' / ')}`);
    const blockA = (await allocations())[a];
    await dockerOk(daemon, ['rm', '-f', a]);
    assert.equal((await allocations())[a], undefined, 'the block is freed on rm');
    const c = await dockerOk(daemon, ['create', 'busybox', 'true']);
    assert.deepEqual((await allocations())[c], blockA, 'the freed block is handed out again');
    await dockerOk(daemon, ['rm', c]);
  } finally {
    await docker(daemon, ['rm', '-f', a, b]);
  }
});

async function du(dir: string): Promise<number> {
  // -x: not into the mounted roots (the overlay of each container shows the whole image)
  return Number((await run('du', ['-skx', dir])).stdout.split('\t')[0]);
}

/** du of the snapshot dir but its pool of idmapped layer mounts (same file system: du -x would walk into them) */
async function duWithoutPool(snapshots: string): Promise<number> {
  let kb = 0;
  for (const entry of await readdir(snapshots)) if (entry !== 'm') kb += await du(path.join(snapshots, entry));
  return kb;
}

test('layers are idmapped, not copied: same layer dirs and size, the upper dir belongs to the mapped root', { skip }, async () => {
  const snapshots = path.join(daemon.dataRoot, 'image', 'snapshots', 'overlay');
  const layersBefore = await readdir(path.join(snapshots, 'layers'));
  const layerKb = await du(path.join(snapshots, 'layers'));
  const totalBefore = await duWithoutPool(snapshots);
  const ids = [await dockerOk(daemon, ['run', '-d', 'busybox', 'sleep', '60']), await dockerOk(daemon, ['run', '-d', 'busybox', 'sleep', '60'])];
  try {
    assert.match(await dockerOk(daemon, ['info', '--format', '{{json .SecurityOptions}}']), /name=userns.*layers=idmapped-mounts/);
    assert.deepEqual(await readdir(path.join(snapshots, 'layers')), layersBefore);
    assert.equal(await du(path.join(snapshots, 'layers')), layerKb);
    assert.equal(await stat(path.join(snapshots, 'shifted')).catch(() => undefined), undefined, 'no chowned copies');
    // two containers' roots add their (tiny) upper dirs, not copies of busybox (~1 MB)
    assert.ok(await duWithoutPool(snapshots) - totalBefore < layerKb / 2, `snapshots grew by ${await duWithoutPool(snapshots) - totalBefore} kB (layers: ${layerKb} kB)`);
    // the idmapped clones of the layer are mounts (one per block and layer), not copies
    const pooled = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.split(' ')[4]?.startsWith(`${snapshots}/m/`));
    assert.equal(pooled.length, 2 * layersBefore.length, `pooled idmapped layer mounts:\n${pooled.join('\n')}`);
    const block = (await allocations())[ids[0] as string];
    const upper = await stat(path.join(snapshots, 'active', ids[0] as string, 'upper'));
    assert.deepEqual([upper.uid, upper.gid], [block?.uid, block?.gid]);
    // inside, image files are root's; written files land in the upper dir with the mapped ids
    assert.equal(await dockerOk(daemon, ['exec', ids[0] as string, 'stat', '-c', '%u:%g', '/bin/busybox']), '0:0');
    await dockerOk(daemon, ['exec', ids[0] as string, 'sh', '-c', 'echo x > /new-file']);
    const created = await stat(path.join(snapshots, 'active', ids[0] as string, 'upper', 'new-file'));
    assert.equal(created.uid, block?.uid);
    // a commit records the container's ids, not the host's
    const image = await dockerOk(daemon, ['commit', ids[0] as string, `committed-${setup.token}`]);
    assert.equal(await dockerOk(daemon, ['run', '--rm', '--userns=host', image, 'stat', '-c', '%u:%g', '/new-file']), '0:0');
    await dockerOk(daemon, ['rmi', image]);
  } finally {
    await docker(daemon, ['rm', '-f', ...ids]);
  }
});

test('a directory removed and made again hides the image\'s files (opaque), in the container and in its commit', { skip }, async () => {
  const id = await dockerOk(daemon, ['create', 'busybox', 'sh', '-c', 'rm -rf /usr && mkdir /usr && touch /usr/x && ls -A /usr']);
  try {
    await dockerOk(daemon, ['start', '-a', id]).then((out) => assert.equal(out, 'x'));
    assert.equal(await dockerOk(daemon, ['start', '-a', id]), 'x', 'the same root started again');
    const image = await dockerOk(daemon, ['commit', id, `opaque-${setup.token}`]);
    try {
      assert.equal(await dockerOk(daemon, ['run', '--rm', image, 'ls', '-A', '/usr']), 'x');
      assert.equal(await dockerOk(daemon, ['run', '--rm', '--userns=host', image, 'ls', '-A', '/usr']), 'x');
    } finally {
      await dockerOk(daemon, ['rmi', image]);
    }
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
});

test('shared layers are not writable and a root-only host file stays unreadable through a bind', { skip }, async () => {
  const dir = path.join(setup.dir, 'bind');
  await mkdir(dir, { mode: 0o755 });
  await writeFile(path.join(dir, 'secret'), 'host root only\n', { mode: 0o600 });
  await writeFile(path.join(dir, 'public'), 'anyone\n', { mode: 0o644 });
  const read = await docker(daemon, ['run', '--rm', '-v', `${dir}:/m`, 'busybox', 'sh', '-c', 'cat /m/public; cat /m/secret; echo x > /m/new']);
  assert.match(read.stdout, /anyone/);
  assert.doesNotMatch(read.stdout, /host root only/);
  assert.match(read.stderr, /Permission denied/);
  assert.equal(await stat(path.join(dir, 'new')).catch(() => undefined), undefined, 'nothing written into a root-owned host dir');
  // the image's layer files, seen from the host, are untouched by a container's writes
  const layers = path.join(daemon.dataRoot, 'image', 'snapshots', 'overlay', 'layers');
  const [layer] = await readdir(layers);
  await dockerOk(daemon, ['run', '--rm', 'busybox', 'sh', '-c', 'echo changed > /bin/mine; rm /bin/true']);
  assert.equal(await stat(path.join(layers, layer as string, 'fs', 'bin', 'mine')).catch(() => undefined), undefined);
  assert.ok(await stat(path.join(layers, layer as string, 'fs', 'bin', 'true')).then(() => true, () => false), 'the layer keeps /bin/true');
});

test('a bind the mapped root cannot read is refused at create, before anything is made', { skip }, async () => {
  const hidden = path.join(setup.dir, 'private');
  await mkdir(path.join(hidden, 'inner'), { recursive: true, mode: 0o700 });
  const before = (await docker(daemon, ['ps', '-aq'])).stdout;
  const refused = await docker(daemon, ['create', '-v', `${path.join(hidden, 'inner')}:/m`, 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /private is not searchable by the container's root \(host uid \d+/);
  assert.equal((await docker(daemon, ['ps', '-aq'])).stdout, before);
  assert.deepEqual(Object.keys(await allocations()).length, before.split('\n').filter(Boolean).length, 'no block kept');
});

test('volumes: files created inside appear on the host with the mapped ids; :U chowns a bind source', { skip }, async () => {
  const volume = `v${setup.token}`;
  const id = await dockerOk(daemon, ['create', '-v', `${volume}:/data`, 'busybox', 'sh', '-c', 'echo hi > /data/f; id -u > /data/who']);
  const block = (await allocations())[id];
  await dockerOk(daemon, ['start', '-a', id]);
  const data = path.join(daemon.dataRoot, 'volumes', volume, '_data');
  const file = await stat(path.join(data, 'f'));
  assert.deepEqual([file.uid, file.gid], [block?.uid, block?.gid]);
  assert.equal((await readFile(path.join(data, 'who'), 'utf8')).trim(), '0');
  await dockerOk(daemon, ['rm', id]);
  await dockerOk(daemon, ['volume', 'rm', volume]);
  const owned = path.join(setup.dir, 'owned');
  await mkdir(owned, { mode: 0o700 });
  await writeFile(path.join(owned, 'old'), 'x', { mode: 0o600 });
  const u = await dockerOk(daemon, ['create', '-v', `${owned}:/m:U`, 'busybox', 'sh', '-c', 'cat /m/old && touch /m/new']);
  const uBlock = (await allocations())[u];
  await dockerOk(daemon, ['start', '-a', u]);
  for (const name of ['', 'old', 'new']) {
    const info = await stat(path.join(owned, name));
    assert.deepEqual([info.uid, info.gid], [uBlock?.uid, uBlock?.gid], `${name || 'the dir'} belongs to the container's root`);
  }
  await dockerOk(daemon, ['rm', u]);
});

test('-v :idmap: host uid N is N inside a remapped container, and what it writes there is N on the host', { skip }, async () => {
  const dir = path.join(setup.dir, 'idmapped');
  await mkdir(dir, { mode: 0o750 });
  await writeFile(path.join(dir, 'mine'), 'owned by 1000\n', { mode: 0o600 });
  await run('chown', ['1000:1000', dir, path.join(dir, 'mine')]);
  const script = 'stat -c %u:%g /m/mine && cat /m/mine && touch /m/made-by-1000';
  const id = await dockerOk(daemon, ['create', '--user', '1000:1000', '-v', `${dir}:/m:idmap`, 'busybox', 'sh', '-c', script]);
  const block = (await allocations())[id];
  try {
    assert.equal(await dockerOk(daemon, ['start', '-a', id]), '1000:1000\nowned by 1000');
    const made = await stat(path.join(dir, 'made-by-1000'));
    assert.deepEqual([made.uid, made.gid], [1000, 1000], 'written back with the host ids, not the block\'s');
    // root inside writes as host root through the idmapped mount (that is what idmap asks for)
    await dockerOk(daemon, ['run', '--rm', '-v', `${dir}:/m:idmap,ro`, 'busybox', 'sh', '-c', 'stat -c %u /m/mine; ! touch /m/ro-file']);
    assert.equal(await stat(path.join(dir, 'ro-file')).catch(() => undefined), undefined, ':ro is kept');
    // without idmap the dir belongs to nobody the container knows: refused, as it cannot be read
    const plain = await docker(daemon, ['create', '--user', '1000:1000', '-v', `${dir}:/m`, 'busybox', 'true']);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /idmapped is not readable by the container's root/);
    assert.ok(block, 'the container was remapped');
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
  const host = await docker(daemon, ['run', '--rm', '--userns=host', '-v', `${dir}:/m:idmap`, 'busybox', 'true']);
  assert.notEqual(host.code, 0);
  assert.match(host.stderr, /idmapped mount needs .*user namespace/);
});

test('--device renamed host:container binds the host node of that number (mknod is not allowed in a user namespace)', { skip }, async () => {
  const out = await dockerOk(daemon, ['run', '--rm', '--network', 'none', '--device', '/dev/zero:/dev/berth-renamed-zero', 'busybox', 'sh', '-c',
    'ls -ln /dev/berth-renamed-zero && head -c 4 /dev/berth-renamed-zero | od -An -tx1']);
  const [listing = '', bytes = ''] = out.split('\n');
  assert.match(listing, /^c\S+\s+1\s+\d+\s+\d+\s+1,\s+5 /, 'the character device 1:5');
  assert.equal(bytes.trim(), '00 00 00 00', 'it reads as /dev/zero');
});

test('--userns=host opts out; host namespaces and --privileged need it', { skip }, async () => {
  const id = await dockerOk(daemon, ['run', '-d', '--userns=host', 'busybox', 'sleep', '60']);
  try {
    assert.equal((await hostIds(await runningPid(id))).uid, 0);
    assert.equal(await dockerOk(daemon, ['inspect', '-f', '{{.HostConfig.UsernsMode}}', id]), 'host');
    assert.equal((await allocations())[id], undefined);
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
  const privileged = await docker(daemon, ['create', '--privileged', 'busybox', 'true']);
  assert.match(privileged.stderr, /cannot run a privileged container when user namespaces are enabled \(use --userns=host\)/);
  const hostNet = await docker(daemon, ['create', '--network=host', 'busybox', 'true']);
  assert.match(hostNet.stderr, /share the host's network namespace/);
});

test('berth run --userns=auto:size=N gets a block of that size; keep-id is refused by a rootful berthd', { skip }, async () => {
  // the docker CLI only lets --userns=host through; berth's passes every mode
  const id = (await berth(daemon, ['run', '-d', '--userns=auto:size=4096', 'busybox', 'sleep', '60'])).stdout.trim();
  try {
    assert.equal((await readFile(`/proc/${await runningPid(id)}/uid_map`, 'utf8')).trim().split(/\s+/)[2], '4096');
    assert.equal(await dockerOk(daemon, ['inspect', '-f', '{{.HostConfig.UsernsMode}}', id]), 'auto:size=4096');
  } finally {
    await docker(daemon, ['rm', '-f', id]);
  }
  const keepId = await berth(daemon, ['create', '--userns=keep-id', 'busybox', 'true']);
  assert.notEqual(keepId.code, 0);
  assert.match(keepId.stderr, /keep-id .* rootless/);
  const bogus = await berth(daemon, ['create', '--userns=bogus', 'busybox', 'true']);
  assert.match(bogus.stderr, /invalid USER mode: bogus/);
});

test('a remap user that does not exist, or one without a range, keeps berthd from starting', { skip }, async () => {
  const other = { ...setup, dir: path.join(setup.dir, 'bad'), token: `${setup.token}b` };
  await mkdir(other.dir, { mode: 0o711 });
  assert.match(await failedStart(other, ['--userns-remap', `nosuchuser${setup.token}`]), /user "nosuchuser\w+" does not exist/);
  await writeFile(path.join(other.dir, 'subuid'), `${setup.user}:100000:1000\n`);
  assert.match(await failedStart({ ...other, subuid: path.join(other.dir, 'subuid') }, ['--userns-remap', setup.user]),
    /no range of berthk\w+ holds 65536 ids \(largest 1000\)/);
  await writeFile(path.join(other.dir, 'subgid'), 'someoneelse:100000:65536\n');
  assert.match(await failedStart({ ...other, subgid: path.join(other.dir, 'subgid') }, ['--userns-remap', setup.user]), /subgid has no range for berthk/);
});
