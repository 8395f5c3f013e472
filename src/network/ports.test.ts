import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mappingsFromBindings, parsePublishSpec, parsePublishSpecs } from './ports.js';

test('parsePublishSpec reads docker -p forms', () => {
  assert.deepEqual(parsePublishSpec('80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
  assert.deepEqual(parsePublishSpec('8080:80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '8080' } }]);
  assert.deepEqual(parsePublishSpec('127.0.0.1:8080:80/udp'), [{ port: '80/udp', binding: { HostIp: '127.0.0.1', HostPort: '8080' } }]);
  assert.deepEqual(parsePublishSpec('127.0.0.1::80'), [{ port: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
  assert.deepEqual(parsePublishSpec('[::1]:53:53/udp'), [{ port: '53/udp', binding: { HostIp: '::1', HostPort: '53' } }]);
  assert.deepEqual(parsePublishSpec('8000-8001:80-81').map((p) => [p.port, p.binding.HostPort]), [['80/tcp', '8000'], ['81/tcp', '8001']]);
  assert.deepEqual(parsePublishSpec('8000-8010:80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '8000-8010' } }]);
});

test('parsePublishSpec names what is wrong', () => {
  assert.throws(() => parsePublishSpec(''), /empty port spec/);
  assert.throws(() => parsePublishSpec('80/icmp'), /invalid protocol "icmp"/);
  assert.throws(() => parsePublishSpec('70000'), /out of range/);
  assert.throws(() => parsePublishSpec('abc:80'), /invalid host port "abc"/);
  assert.throws(() => parsePublishSpec('300.1.1.1:80:80'), /invalid host ip/);
  assert.throws(() => parsePublishSpec('8000-8002:80-81'), /ranges do not match/);
  assert.throws(() => parsePublishSpec('90-80'), /invalid container port range/);
  assert.throws(() => parsePublishSpec('::1:80:80'), /too many colons/);
});

test('parsePublishSpecs builds PortBindings and ExposedPorts', () => {
  const out = parsePublishSpecs(['80', '8080:80', '53:53/udp']);
  assert.deepEqual(out.portBindings['80/tcp'], [{ HostIp: '', HostPort: '' }, { HostIp: '', HostPort: '8080' }]);
  assert.deepEqual(Object.keys(out.exposedPorts).sort(), ['53/udp', '80/tcp']);
});

test('mappingsFromBindings expands bindings and -P exposed ports', () => {
  const maps = mappingsFromBindings({ '80/tcp': [{ HostIp: '', HostPort: '8000-8005' }] }, { '80/tcp': {}, '443/tcp': {} }, true);
  assert.deepEqual(maps, [
    { protocol: 'tcp', containerPort: 80, hostIp: '', hostPortStart: 8000, hostPortEnd: 8005 },
    { protocol: 'tcp', containerPort: 443, hostIp: '', hostPortStart: 0, hostPortEnd: 0 },
  ]);
  assert.deepEqual(mappingsFromBindings(undefined, { '80/tcp': {} }, false), []);
  assert.throws(() => mappingsFromBindings({ '80/xyz': [] }, undefined, false), /invalid protocol/);
});
