import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsernsService } from './service.js';

async function withFiles(work: (dir: string, files: { passwd: string; group: string; subuid: string; subgid: string }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-userns-svc-'));
  try {
    const files = { passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group'), subuid: path.join(dir, 'subuid'), subgid: path.join(dir, 'subgid') };
    await writeFile(files.passwd, 'remap:x:900:900::/:/sbin/nologin\n');
    await writeFile(files.group, 'remap:x:900:\n');
    await writeFile(files.subuid, 'remap:1000000:196608\n');
    await writeFile(files.subgid, 'remap:2000000:196608\n');
    await work(dir, files);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('with --userns-remap every container without --userns gets its own block; host opts out; blocks survive a restart', async () => {
  await withFiles(async (dir, files) => {
    const service = await UsernsService.open({ dataRoot: dir, remap: 'remap', files });
    const a = await service.allocate('a', {});
    const b = await service.allocate('b', { UsernsMode: 'auto' });
    assert.deepEqual(a?.uidMappings, [{ containerID: 0, hostID: 1000000, size: 65536 }]);
    assert.deepEqual(a?.gidMappings, [{ containerID: 0, hostID: 2000000, size: 65536 }]);
    assert.deepEqual(b?.uidMappings, [{ containerID: 0, hostID: 1065536, size: 65536 }]);
    assert.equal(await service.allocate('h', { UsernsMode: 'host' }), undefined);
    assert.equal(service.mapsOf('h'), undefined);
    const again = await UsernsService.open({ dataRoot: dir, remap: 'remap', files });
    assert.deepEqual(again.mapsOf('b'), b, 'the block is persisted');
    await again.sweep(new Set(['a']));
    assert.equal(again.mapsOf('b'), undefined, 'a gone container\'s block is freed at start');
    await again.allocate('c', {});
    await again.allocate('d', {});
    await assert.rejects(again.allocate('e', {}), /no free block of 65536 subordinate uids left for container e/);
    assert.deepEqual(again.securityOptions('idmapped-mounts'), ['name=userns,remap-user=remap,layers=idmapped-mounts']);
    assert.match(await readFile(path.join(dir, 'userns', 'allocations.json'), 'utf8'), /"c"/);
  });
});

test('without --userns-remap containers stay in the host user namespace; keep-id is refused rootful', async () => {
  await withFiles(async (dir, files) => {
    const service = await UsernsService.open({ dataRoot: dir, files });
    assert.equal(await service.allocate('a', {}), undefined);
    await assert.rejects(service.allocate('k', { UsernsMode: 'keep-id' }), /rootless/);
    await assert.rejects(UsernsService.open({ dataRoot: dir, remap: 'nobody-here', files }), /user "nobody-here" does not exist/);
  });
});
