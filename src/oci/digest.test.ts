import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Digester, digestOf, isDigest, parseDigest } from './digest.js';

test('digest of bytes matches a streaming digester', () => {
  const d = new Digester();
  d.update(Buffer.from('hello ')).update(Buffer.from('world'));
  assert.equal(d.peek(), digestOf('hello world'));
  assert.equal(d.digest(), 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
  assert.equal(d.size, 11);
});

test('parseDigest validates algorithm and length', () => {
  assert.equal(parseDigest('sha256:' + 'a'.repeat(64)), 'sha256:' + 'a'.repeat(64));
  assert.ok(isDigest('sha512:' + 'b'.repeat(128)));
  assert.throws(() => parseDigest('md5:abc'), /unsupported algorithm "md5"/);
  assert.throws(() => parseDigest('sha256:' + 'A'.repeat(64)), /lowercase hex/);
  assert.throws(() => parseDigest('sha256:abc'), /needs 64 hex characters, got 3/);
  assert.throws(() => parseDigest('nocolon'), /missing/);
  assert.ok(!isDigest('sha256:../../etc/passwd'));
});
