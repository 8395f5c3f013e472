import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequestFromQuery, toJsonMessages } from './api.js';

test('q=1 sends the image id as a stream line too (what docker build -q prints)', () => {
  assert.deepEqual(toJsonMessages({ type: 'aux', id: 'sha256:abc' }, true), [{ aux: { ID: 'sha256:abc' } }, { stream: 'sha256:abc\n' }]);
  assert.deepEqual(toJsonMessages({ type: 'stream', text: 'Step 1/1\n' }, true), []);
  assert.deepEqual(toJsonMessages({ type: 'stream', text: 'Step 1/1\n' }, false), [{ stream: 'Step 1/1\n' }]);
});

test('remote= and cachefrom= are read; a remote that is no url is refused', () => {
  const request = buildRequestFromQuery(new URLSearchParams({ remote: 'https://h/r.git#main', cachefrom: '["a:1","b"]' }));
  assert.equal(request.remote, 'https://h/r.git#main');
  assert.deepEqual(request.cacheFrom, ['a:1', 'b']);
  assert.throws(() => buildRequestFromQuery(new URLSearchParams({ remote: '/etc/passwd' })), /remote context \/etc\/passwd is neither/);
  assert.throws(() => buildRequestFromQuery(new URLSearchParams({ cachefrom: '{"a":1}' })), /query parameter cachefrom/);
});
