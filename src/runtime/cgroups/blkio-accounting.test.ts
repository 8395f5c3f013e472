import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deviceNumbers, diskOfDevice } from './blkio-accounting.js';

test('dev_t splits into major and minor as glibc does', () => {
  assert.deepEqual(deviceNumbers(0xfe00), { major: 254, minor: 0 });
  assert.deepEqual(deviceNumbers(0x0801), { major: 8, minor: 1 });
  assert.deepEqual(deviceNumbers(0x10305), { major: 259, minor: 5 });
  // a minor above 255 keeps its high bits from bit 20 up
  assert.deepEqual(deviceNumbers(0x100103), { major: 1, minor: 0x103 });
});

test('a partition maps to its disk through /sys/dev/block; a disk to itself; no device to undefined', async () => {
  const sys = await mkdtemp(path.join(tmpdir(), 'berth-sysfs-'));
  try {
    await mkdir(path.join(sys, 'devices/vda/vda1'), { recursive: true });
    await writeFile(path.join(sys, 'devices/vda/dev'), '254:0\n');
    await writeFile(path.join(sys, 'devices/vda/vda1/dev'), '254:1\n');
    await writeFile(path.join(sys, 'devices/vda/vda1/partition'), '1\n');
    await mkdir(path.join(sys, 'dev/block'), { recursive: true });
    await symlink(path.join(sys, 'devices/vda/vda1'), path.join(sys, 'dev/block/254:1'));
    await symlink(path.join(sys, 'devices/vda'), path.join(sys, 'dev/block/254:0'));
    assert.equal(await diskOfDevice(254, 1, sys), '254:0');
    assert.equal(await diskOfDevice(254, 0, sys), '254:0');
    assert.equal(await diskOfDevice(0, 42, sys), undefined);
  } finally {
    await rm(sys, { recursive: true, force: true });
  }
});
