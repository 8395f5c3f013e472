import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerNotFoundName } from './image-service.js';

test('not-found names are worded as dockerd words them', () => {
  assert.equal(dockerNotFoundName('nosuch'), 'nosuch:latest');
  assert.equal(dockerNotFoundName('nosuch:v1'), 'nosuch:v1');
  assert.equal(dockerNotFoundName('docker.io/library/busybox'), 'busybox:latest');
  assert.equal(dockerNotFoundName('localhost:5000/team/app'), 'localhost:5000/team/app:latest');
  assert.equal(dockerNotFoundName('abcdef'), 'abcdef:latest');
  assert.equal(dockerNotFoundName('sha256:abcdef'), 'sha256:abcdef');
  assert.equal(dockerNotFoundName('bad name!'), 'bad name!');
});
