import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerDevices, parseDeviceCgroupRule } from './devices.js';

test('--device maps a host node (renamed inside) with its rule; bad paths and permissions are refused', async () => {
  const mapped = await containerDevices({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }] });
  assert.deepEqual(mapped.devices.map((d) => [d.path, d.type, d.major, d.minor]), [['/dev/mynull', 'c', 1, 3]]);
  assert.equal(mapped.devices[0]?.fileMode, 0o666);
  assert.deepEqual(mapped.rules, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
  await assert.rejects(containerDevices({ Devices: [{ PathOnHost: '/dev/berth-no-such' }] }), /adding custom device "\/dev\/berth-no-such": no such file/);
  await assert.rejects(containerDevices({ Devices: [{ PathOnHost: '/etc/hostname' }] }), /not a device node/);
  await assert.rejects(containerDevices({ Devices: [{ PathOnHost: '/dev/null', CgroupPermissions: 'rx' }] }), /invalid device cgroup permissions "rx"/);
});

test('--privileged brings the host devices (not /dev/pts, /dev/shm, the console)', async () => {
  const all = await containerDevices({ Privileged: true });
  const paths = all.devices.map((d) => d.path);
  assert.ok(paths.includes('/dev/null') && paths.includes('/dev/zero'), paths.join(','));
  assert.ok(!paths.some((p) => p.startsWith('/dev/pts/') || p.startsWith('/dev/shm/') || p === '/dev/console'));
  assert.deepEqual(all.rules, [], 'its cgroup allows every device anyway');
  assert.deepEqual(await containerDevices({}), { devices: [], rules: [] });
});

test('--device-cgroup-rule as dockerd parses it', () => {
  assert.deepEqual(parseDeviceCgroupRule('c 10:229 rwm'), { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  assert.deepEqual(parseDeviceCgroupRule('b *:* m'), { allow: true, type: 'b', major: null, minor: null, access: 'm' });
  assert.throws(() => parseDeviceCgroupRule('c 10 rwm'), /invalid device cgroup rule format: 'c 10 rwm'/);
  assert.throws(() => parseDeviceCgroupRule('x 1:2 r'), /invalid device cgroup rule/);
});
