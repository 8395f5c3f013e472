import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/berth-error.js';
import { credentialKey, inCidr, normalizeRegistryName, resolveEndpoint } from './hosts.js';

test('Docker Hub names map to registry-1.docker.io and the legacy credential key', () => {
  for (const name of ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io']) {
    assert.equal(normalizeRegistryName(name), 'docker.io');
    assert.equal(resolveEndpoint(name).apiHost, 'registry-1.docker.io');
    assert.equal(credentialKey(name), 'https://index.docker.io/v1/');
  }
  assert.equal(resolveEndpoint('docker.io').insecure, false);
});

test('loopback registries may use plain HTTP by default, others only when configured', () => {
  assert.equal(resolveEndpoint('localhost:5000').insecure, true);
  assert.equal(resolveEndpoint('127.3.4.5:5000').insecure, true);
  assert.equal(resolveEndpoint('[::1]:5000').insecure, true);
  assert.equal(resolveEndpoint('registry.example:5000').insecure, false);
  assert.equal(resolveEndpoint('registry.example:5000', { insecureRegistries: ['registry.example:5000'] }).insecure, true);
  assert.equal(resolveEndpoint('10.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] }).insecure, true);
  assert.equal(resolveEndpoint('11.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] }).insecure, false);
});

test('CIDR membership for both families and a clear error for bad ranges', () => {
  assert.equal(inCidr('192.168.1.7', '192.168.0.0/16'), true);
  assert.equal(inCidr('fd00::1', 'fd00::/8'), true);
  assert.equal(inCidr('192.168.1.7', 'fd00::/8'), false);
  assert.throws(() => inCidr('1.2.3.4', 'nonsense/99'), (err) => isBerthError(err, 'invalid_argument') && err.message.includes('nonsense/99'));
});

test('hostile registry names are rejected with the name in the message', () => {
  assert.throws(() => normalizeRegistryName('evil host:5000'), (err) => isBerthError(err) && err.message.includes('evil host'));
  assert.throws(() => normalizeRegistryName('-bad-.example'), (err) => isBerthError(err, 'invalid_argument'));
  assert.equal(normalizeRegistryName('HTTPS://Registry.Example:443/path'), 'registry.example:443');
});
