import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocateAddress, formatAddress, formatCidr, macForAddress, makePool, overlaps, parseAddress, parseCidr, pickFreeSubnet, ulaSubnetFor,
} from './ipam.js';

test('addresses round-trip for IPv4 and IPv6', () => {
  assert.equal(formatAddress(4, parseAddress('172.17.0.1').value), '172.17.0.1');
  assert.equal(formatAddress(6, parseAddress('fd00:0:0:0::1').value), 'fd00::1');
  assert.equal(formatAddress(6, parseAddress('2001:db8::ffff:1.2.3.4').value), '2001:db8::ffff:102:304');
  assert.equal(formatCidr(parseCidr('10.1.2.3/8')), '10.0.0.0/8');
  assert.throws(() => parseCidr('10.0.0.0'), /expected address\/prefix/);
  assert.throws(() => parseCidr('10.0.0.0/33'), /invalid prefix/);
  assert.throws(() => parseAddress('10.0.0.256'), /invalid ip address/);
});

test('overlap and free subnet choice pass over taken ranges', () => {
  assert.ok(overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.17.5.0/24')));
  assert.ok(!overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.18.0.0/16')));
  assert.equal(formatCidr(pickFreeSubnet([])), '172.17.0.0/16');
  assert.equal(formatCidr(pickFreeSubnet([parseCidr('172.17.0.0/16'), parseCidr('172.18.3.0/24')])), '172.19.0.0/16');
  assert.equal(formatCidr(pickFreeSubnet([parseCidr('172.16.0.0/12')])), '192.168.0.0/20');
  assert.equal(ulaSubnetFor('abcdef0123456789').prefix, 64);
  assert.match(formatCidr(ulaSubnetFor('abcdef0123456789')), /^fdab:cdef:123:4567::\/64$/);
});

test('allocation skips gateway and leases, honours range and static requests', () => {
  const pool = makePool('10.5.0.0/24', '10.5.0.128/25', undefined);
  assert.equal(formatAddress(4, pool.gateway), '10.5.0.1');
  const used = new Set([parseAddress('10.5.0.128').value]);
  assert.equal(formatAddress(4, allocateAddress(pool, used)), '10.5.0.129', 'the range starts at .128, which is leased');
  assert.equal(formatAddress(4, allocateAddress(pool, used, '10.5.0.9')), '10.5.0.9');
  assert.throws(() => allocateAddress(pool, used, '10.5.0.128'), /already in use/);
  assert.throws(() => allocateAddress(pool, used, '10.5.0.1'), /already in use/);
  assert.throws(() => allocateAddress(pool, used, '10.6.0.1'), /not inside subnet/);
  assert.throws(() => allocateAddress(pool, used, '10.5.0.255'), /reserved/);
  assert.throws(() => makePool('10.5.0.0/24', '10.6.0.0/25', undefined), /not inside subnet/);
  assert.throws(() => makePool('10.5.0.0/24', undefined, '10.7.0.1'), /not inside subnet/);
  const tiny = makePool('10.9.0.0/30', undefined, undefined);
  assert.equal(formatAddress(4, allocateAddress(tiny, new Set())), '10.9.0.2');
  assert.throws(() => allocateAddress(tiny, new Set([parseAddress('10.9.0.2').value])), /no free address/);
  assert.equal(macForAddress(parseAddress('172.17.0.2').value), '02:42:ac:11:00:02');
});
