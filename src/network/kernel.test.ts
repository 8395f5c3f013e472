import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeMac } from './kernel.js';

test('a bridge gets a stable, locally administered unicast address of its own', () => {
  const mac = bridgeMac('bbabcde0123456');
  assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  const first = parseInt(mac.slice(0, 2), 16);
  assert.equal(first & 0x01, 0, 'unicast');
  assert.equal(first & 0x02, 0x02, 'locally administered');
  assert.equal(bridgeMac('bbabcde0123456'), mac, 'the same after a restart');
  assert.notEqual(bridgeMac('bbabcde0123457'), mac);
});
