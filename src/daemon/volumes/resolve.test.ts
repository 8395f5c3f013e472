import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymousVolumeName, volumeUses } from './resolve.js';

test('volume uses: named binds, -v /dst, --mount volume, image VOLUMEs not covered by another mount', () => {
  const uses = volumeUses({
    Id: 'c1',
    Config: { Volumes: { '/data': {}, '/covered': {}, '/tmp': {} } },
    HostConfig: {
      Binds: ['named:/n:ro,nocopy', '/host:/covered', '/anon'],
      Mounts: [{ Type: 'volume', Source: '', Target: '/m', VolumeOptions: { NoCopy: true } }],
      Tmpfs: { '/tmp': '' },
    },
  });
  assert.deepEqual(uses.map((u) => [u.name, u.destination, u.readOnly, u.noCopy, u.anonymous]), [
    ['named', '/n', true, true, false],
    [anonymousVolumeName('c1', '/anon'), '/anon', false, false, true],
    [anonymousVolumeName('c1', '/m'), '/m', false, true, true],
    [anonymousVolumeName('c1', '/data'), '/data', false, false, true],
  ]);
  assert.match(anonymousVolumeName('c1', '/data'), /^[0-9a-f]{64}$/);
  assert.notEqual(anonymousVolumeName('c1', '/data'), anonymousVolumeName('c2', '/data'));
});

test('hostile VolumeOptions are refused with the mount named', () => {
  assert.throws(() => volumeUses({ Id: 'c', Config: {}, HostConfig: { Mounts: [{ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { NoCopy: 'yes' } }] } }),
    /invalid VolumeOptions for mount \/x/);
});
