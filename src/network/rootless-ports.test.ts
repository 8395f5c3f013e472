import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRootlessPorts, keptSource, rootlessProxyTarget } from './rootless-ports.js';
import { relayReplyPath, RELAY_MARK, RELAY_TABLE } from './rootless-netns.js';
import type { SocketRequest } from '../sys/netns-sockets.js';

test('the client address is kept for IPv4 clients that are not on loopback, and only when the reply path exists', () => {
  assert.equal(keptSource('10.1.2.3', true), '10.1.2.3');
  assert.equal(keptSource('::ffff:10.1.2.3', true), '10.1.2.3', 'a v4 client of a dual-stack socket');
  assert.equal(keptSource('127.0.0.1', true), undefined, '127/8 cannot leave the namespace\'s lo');
  assert.equal(keptSource('::ffff:127.0.0.1', true), undefined);
  assert.equal(keptSource('fd00::2', true), undefined, 'IPv6 clients are not kept');
  assert.equal(keptSource(undefined, true), undefined);
  assert.equal(keptSource('10.1.2.3', false), undefined);
  assert.match(describeRootlessPorts(true), /containers see the client's address; loopback clients appear as the network gateway/);
  assert.match(describeRootlessPorts(false), /containers see the network gateway as the peer/);
});

test('relay sockets: a TCP upstream is bound transparently to the client, UDP to its address and port', () => {
  const requests: SocketRequest[] = [];
  const sockets = { socket: (r: SocketRequest): number => { requests.push(r); throw new Error('recorded'); } };
  const target = rootlessProxyTarget(sockets, true, '172.18.0.2', 80);
  assert.equal(target.ip, '172.18.0.2');
  const client = { remoteAddress: '::ffff:10.9.0.2' };
  assert.throws(() => target.connectTcp?.(client as never), /recorded/);
  assert.throws(() => target.udpSocket?.({ address: '127.0.0.1', port: 5353, family: 'IPv4', size: 1 }), /recorded/);
  assert.throws(() => target.udpSocket?.({ address: '10.9.0.2', port: 5353, family: 'IPv4', size: 1 }), /recorded/);
  assert.deepEqual(requests, [
    { protocol: 'tcp', address: '10.9.0.2', port: 0, transparent: true },
    { protocol: 'udp', address: '0.0.0.0', port: 0 },
    { protocol: 'udp', address: '10.9.0.2', port: 5353, transparent: true },
  ]);
});

test('the reply path: packets of transparent sockets are marked and routed to the local host', () => {
  const reply = relayReplyPath();
  assert.deepEqual(reply.ip, [`rule add fwmark ${RELAY_MARK} lookup ${RELAY_TABLE} priority 100`, `route add local 0.0.0.0/0 dev lo table ${RELAY_TABLE}`]);
  assert.match(reply.nft, /type filter hook prerouting priority mangle/);
  assert.match(reply.nft, new RegExp(`socket transparent 1 meta mark set ${RELAY_MARK}`));
});
