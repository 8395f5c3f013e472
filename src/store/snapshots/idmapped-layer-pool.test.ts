import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { IdMaps, IdmapTarget } from '../../sys/idmap.js';
import { IdmappedLayerPool, idMapKey, type PoolMounts } from './idmapped-layer-pool.js';

const block = (hostID: number): IdMaps => ({
  uidMappings: [{ containerID: 0, hostID, size: 65536 }],
  gidMappings: [{ containerID: 0, hostID, size: 65536 }],
});

/** Records the helper runs and unmounts; "mounted" is what a real kernel would have now. */
function recordingMounts(): PoolMounts & { runs: string[][]; unmounted: string[]; mounted: Set<string> } {
  const runs: string[][] = [];
  const unmounted: string[] = [];
  const mounted = new Set<string>();
  return {
    runs, unmounted, mounted,
    mountIdmapped: async (_maps: IdMaps, mounts: readonly IdmapTarget[]) => {
      runs.push(mounts.map((m) => `${path.basename(m.source)}->${path.relative(path.dirname(path.dirname(m.target)), m.target)}`));
      for (const m of mounts) mounted.add(m.target);
    },
    unmount: (target: string) => {
      if (!mounted.delete(target)) throw Object.assign(new Error(`${target}: not mounted`), { code: 'EINVAL' });
      unmounted.push(target);
    },
  };
}

async function withPool(maxMaps: number, body: (pool: IdmappedLayerPool, mounts: ReturnType<typeof recordingMounts>, root: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-pool-'));
  const mounts = recordingMounts();
  try {
    await body(new IdmappedLayerPool(path.join(dir, 'm'), maxMaps, mounts), mounts, path.join(dir, 'm'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a map meets a layer once: the next container with the same block makes no helper run', async () => {
  await withPool(4, async (pool, mounts, root) => {
    const first = await pool.lowersFor(block(100000), ['/x/l/aaa', '/x/l/bbb']);
    const key = idMapKey(block(100000));
    assert.deepEqual(first, [path.join(root, key, 'aaa'), path.join(root, key, 'bbb')]);
    assert.deepEqual(await pool.lowersFor(block(100000), ['/x/l/aaa', '/x/l/bbb']), first);
    assert.equal(mounts.runs.length, 1);
    assert.deepEqual(pool.mountedTargets(), new Set(first), 'system check is told these are kept');
    // a new top layer on the same base: only that one is mounted
    await pool.lowersFor(block(100000), ['/x/l/ccc', '/x/l/bbb']);
    assert.deepEqual(mounts.runs[1], [`ccc->${key}/ccc`]);
    // another block is another map
    await pool.lowersFor(block(165536), ['/x/l/aaa']);
    assert.equal(mounts.runs.length, 3);
    assert.notEqual(idMapKey(block(165536)), key);
  });
});

test('beyond the limit the least recently used map comes off, mounts and mount points', async () => {
  await withPool(2, async (pool, mounts, root) => {
    await pool.lowersFor(block(1), ['/l/aaa']);
    await pool.lowersFor(block(2), ['/l/aaa']);
    await pool.lowersFor(block(1), ['/l/aaa']); // block 2 is now the oldest
    await pool.lowersFor(block(3), ['/l/aaa']);
    assert.deepEqual([...pool.pooled().keys()].sort(), [idMapKey(block(1)), idMapKey(block(3))].sort());
    assert.deepEqual(mounts.unmounted, [path.join(root, idMapKey(block(2)), 'aaa')]);
    assert.equal(await stat(path.join(root, idMapKey(block(2)))).catch(() => undefined), undefined);
  });
});

test('removing a layer unmounts its clones of every map; close unmounts the rest and leaves no dir', async () => {
  await withPool(4, async (pool, mounts, root) => {
    await pool.lowersFor(block(1), ['/l/aaa', '/l/bbb']);
    await pool.lowersFor(block(2), ['/l/aaa']);
    await pool.removeLayer('aaa');
    assert.equal(mounts.unmounted.length, 2);
    assert.deepEqual(pool.pooled().get(idMapKey(block(1))), ['bbb']);
    // a map that met the layer again mounts it again
    await pool.lowersFor(block(2), ['/l/aaa']);
    assert.equal(mounts.runs.length, 3);
    await pool.close();
    assert.equal(mounts.mounted.size, 0);
    assert.deepEqual(await readdir(path.dirname(root)), []);
  });
});

test('a failed helper run leaves nothing pooled and the next try mounts again', async () => {
  await withPool(4, async (pool, mounts, root) => {
    const failing: PoolMounts = {
      mountIdmapped: async (maps, targets) => {
        await mounts.mountIdmapped(maps, targets.slice(0, 1)); // the first mount made, then a failure
        throw Object.assign(new Error('idmap_mount_setattr: EINVAL'), { code: 'EINVAL' });
      },
      unmount: mounts.unmount,
    };
    const broken = new IdmappedLayerPool(root, 4, failing);
    await assert.rejects(broken.lowersFor(block(1), ['/l/aaa', '/l/bbb']), /EINVAL/);
    assert.equal(mounts.mounted.size, 0, 'the half-made mount came off');
    assert.deepEqual(broken.pooled().get(idMapKey(block(1))), []);
    await pool.lowersFor(block(1), ['/l/aaa', '/l/bbb']);
    assert.equal(mounts.mounted.size, 2);
  });
});
