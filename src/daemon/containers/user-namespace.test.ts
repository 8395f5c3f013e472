import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Spec } from '../../oci/runtime-spec.js';
import { checkBindsReadable, checkUsernsConflicts, chownedBindSources, mappedIds, withUserNamespace } from './user-namespace.js';

const maps = { uidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 300000, size: 65536 }] };

test('ids inside map to the block; unmapped ones to nobody; no maps: unchanged', () => {
  assert.deepEqual(mappedIds(maps, 0, 0), { uid: 200000, gid: 300000 });
  assert.deepEqual(mappedIds(maps, 1000, 5), { uid: 201000, gid: 300005 });
  assert.deepEqual(mappedIds(maps, 70000, 0), { uid: 65534, gid: 300000 });
  assert.deepEqual(mappedIds(undefined, 7, 8), { uid: 7, gid: 8 });
});

test('the spec gets a new user namespace with the maps; sysfs of a joined network namespace is bound from the host', () => {
  const spec: Spec = { ociVersion: '1.2.0', mounts: [{ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] }],
    linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }] } };
  const out = withUserNamespace(spec, maps);
  assert.deepEqual(out.linux?.namespaces?.[0], { type: 'user' });
  assert.deepEqual(out.linux?.uidMappings, maps.uidMappings);
  assert.deepEqual(out.mounts?.[0], { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  const own = withUserNamespace({ ...spec, linux: { namespaces: [{ type: 'network' }] } }, maps);
  assert.equal(own.mounts?.[0]?.type, 'sysfs', 'a network namespace of its own can have a fresh sysfs');
});

test('host namespaces and --privileged conflict with a user namespace; :U sources are picked from -v', () => {
  assert.throws(() => checkUsernsConflicts({ NetworkMode: 'host' }), /network namespace when user namespaces are enabled/);
  assert.throws(() => checkUsernsConflicts({ PidMode: 'host' }), /PID namespace/);
  assert.throws(() => checkUsernsConflicts({ Privileged: true }), /privileged/);
  checkUsernsConflicts({ NetworkMode: 'bridge', PidMode: '' });
  assert.deepEqual(chownedBindSources({ Binds: ['/a:/a:U', '/b:/b:ro,U', '/c:/c', 'vol:/d:U', '/e:/e:ro'] }), ['/a', '/b']);
});

test('a bind under a directory others cannot search is refused, naming it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-userns-bind-'));
  try {
    await mkdir(path.join(dir, 'closed', 'inner'), { recursive: true });
    await chmod(dir, 0o755);
    await chmod(path.join(dir, 'closed'), 0o700);
    await mkdir(path.join(dir, 'open'), { mode: 0o755 });
    await checkBindsReadable({ Binds: [`${path.join(dir, 'open')}:/m`, `${path.join(dir, 'missing')}:/n`] }, maps);
    await assert.rejects(checkBindsReadable({ Binds: [`${path.join(dir, 'closed', 'inner')}:/m`] }, maps),
      /closed is not searchable by the container's root \(host uid 200000, gid 300000\)/);
    await checkBindsReadable({ Binds: [`${path.join(dir, 'closed', 'inner')}:/m:U`] }, maps);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
