import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, formatReference, parseNormalizedReference, parseReference, familiarName } from './reference.js';
import { isBerthError } from '../errors/berth-error.js';

const D = 'sha256:' + 'a'.repeat(64);

test('normalizes docker hub short names', () => {
  assert.equal(formatReference(parseNormalizedReference('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(parseNormalizedReference('user/app:1.0')), 'docker.io/user/app:1.0');
  assert.equal(formatReference(parseNormalizedReference('index.docker.io/library/busybox')), 'docker.io/library/busybox:latest');
  assert.equal(familiarString(parseNormalizedReference('docker.io/library/busybox:1')), 'busybox:1');
});

test('registry hosts with ports and localhost', () => {
  const r = parseReference('localhost:5000/a/b:tag');
  assert.deepEqual(r, { domain: 'localhost:5000', path: 'a/b', tag: 'tag' });
  assert.equal(familiarName(r), 'localhost:5000/a/b');
  assert.equal(parseReference('localhost/x').domain, 'localhost');
  assert.equal(parseReference('example.com/x').domain, 'example.com');
  assert.equal(parseReference('[::1]:5000/x').domain, '[::1]:5000');
});

test('digests, and tag plus digest', () => {
  assert.deepEqual(parseNormalizedReference(`busybox@${D}`), { domain: 'docker.io', path: 'library/busybox', digest: D });
  assert.deepEqual(parseReference(`busybox:1@${D}`), { domain: 'docker.io', path: 'library/busybox', tag: '1', digest: D });
});

function rejects(input: string, part: RegExp): void {
  assert.throws(() => parseReference(input), (err: unknown) => isBerthError(err, 'invalid_argument') && part.test(err.message), input);
}

test('rejects bad references naming the bad part', () => {
  rejects('Busybox', /lowercase/);
  rejects('busybox:-bad', /invalid tag "-bad"/);
  rejects('a/b__/c', /path component "b__"/);
  rejects('busybox@sha256:abc', /bad digest/);
  rejects('', /empty/);
  rejects('a'.repeat(64), /64-byte/);
  rejects('foo.com:abc/x', /invalid tag|registry host/);
  rejects('x/' + 'a'.repeat(300), /longer than 255/);
});
