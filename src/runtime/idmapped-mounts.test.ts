import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../oci/runtime-spec.js';
import { planIdmappedMounts } from './idmapped-mounts.js';

const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
const spec = (mounts: Spec['mounts'], userns = true): Spec => ({
  ociVersion: '1.2.0', mounts,
  linux: { namespaces: userns ? [{ type: 'user' }, { type: 'mount' }] : [{ type: 'mount' }], ...(userns ? { uidMappings: maps, gidMappings: maps } : {}) },
});

test('ridmap binds: one user namespace for mounts with the same maps, a slot each, sources resolved in the bundle', () => {
  const plan = planIdmappedMounts(spec([
    { destination: '/a', type: 'bind', source: '/srv/a', options: ['rbind', 'rw', 'ridmap'] },
    { destination: '/plain', type: 'bind', source: '/srv/p', options: ['rbind'] },
    { destination: '/b', type: 'bind', source: 'rel', options: ['bind', 'idmap'] },
  ]), '/bundle');
  assert.deepEqual(plan.preClone, [
    { op: 'IDMAP_USERNS', strs: ['0 100000 65536\n', '0 100000 65536\n'] },
    { op: 'IDMAP_TREE', ints: [0, 1], strs: ['/srv/a'] },
    { op: 'IDMAP_TREE', ints: [1, 0], strs: ['/bundle/rel'] },
  ]);
  assert.deepEqual([...plan.slots], [[0, 0], [2, 1]]);
});

test('a mount with maps of its own gets its own user namespace; none and no user namespace is refused', () => {
  const own = [{ containerID: 1000, hostID: 1000, size: 1 }];
  const plan = planIdmappedMounts(spec([{ destination: '/a', type: 'bind', source: '/s', options: ['idmap'], uidMappings: own, gidMappings: own }], false), '/b');
  assert.deepEqual(plan.preClone[0], { op: 'IDMAP_USERNS', strs: ['1000 1000 1\n', '1000 1000 1\n'] });
  assert.throws(() => planIdmappedMounts(spec([{ destination: '/a', type: 'bind', source: '/s', options: ['ridmap'] }], false), '/b'),
    /mounts\[0\]: an idmapped mount needs uidMappings and gidMappings, or a container in a user namespace/);
  assert.throws(() => planIdmappedMounts(spec([{ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] }]), '/b'), /bind mounts only/);
});
