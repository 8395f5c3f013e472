import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceWithTag } from './routes.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('the tag query parameter joins the name as dockerd joins them', () => {
  assert.equal(referenceWithTag('busybox', undefined), 'busybox');
  assert.equal(referenceWithTag('busybox', ''), 'busybox');
  assert.equal(referenceWithTag('busybox', 'v1'), 'busybox:v1');
  assert.equal(referenceWithTag('127.0.0.1:5000/app:v1', 'v1'), '127.0.0.1:5000/app:v1', 'dockerode sends both');
  assert.equal(referenceWithTag('127.0.0.1:5000/app:v1', 'v2'), '127.0.0.1:5000/app:v2', 'the parameter wins');
  assert.equal(referenceWithTag('busybox', DIGEST), `busybox@${DIGEST}`);
  assert.equal(referenceWithTag('busybox:v1', DIGEST), `busybox@${DIGEST}`);
});

test('a bad tag or digest in the parameter is a 400 naming it', () => {
  assert.throws(() => referenceWithTag('busybox', 'bad tag'), (e: Error & { kind?: string }) => e.kind === 'invalid_argument' && /bad tag/.test(e.message));
  assert.throws(() => referenceWithTag('busybox', 'sha256:xyz'), (e: Error & { kind?: string }) => e.kind === 'invalid_argument' && /sha256:xyz/.test(e.message));
  assert.throws(() => referenceWithTag('Bad/Name', 'v1'), (e: Error & { kind?: string }) => e.kind === 'invalid_argument');
});
