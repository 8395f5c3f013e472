import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pastaSpec } from './user-mode.js';

test('pasta port specs: any address binds all, a given address is a prefix', () => {
  assert.equal(pastaSpec({ protocol: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 }), '8080:80');
  assert.equal(pastaSpec({ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 }), '8080:80');
  assert.equal(pastaSpec({ protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 }), '127.0.0.1/5353:53');
});
