import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceNumbers } from './device-number.js';

/** glibc's makedev() */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
}

test('major and minor come back from the dev_t makedev made, small and large alike', () => {
  for (const [major, minor] of [[1, 3], [8, 16], [259, 65536], [4095, 255], [4096, 1], [0xfffff, 0xffffff], [0xffffffff, 0xffffffff]] as const) {
    assert.deepEqual(deviceNumbers(makedev(major, minor)), { major, minor });
  }
  assert.deepEqual(deviceNumbers(Number(makedev(1, 3))), { major: 1, minor: 3 }, 'a number rdev as fs.stat gives it');
});
