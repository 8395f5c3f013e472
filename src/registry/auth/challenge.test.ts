import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from './challenge.js';

test('a Bearer challenge with quoted realm, service and scope', () => {
  const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"';
  assert.deepEqual(parseChallenges(header), [{
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
  }]);
});

test('several challenges in one header, unquoted values, escapes and odd spacing', () => {
  const header = 'Basic realm="a \\"quoted\\" realm" , Bearer realm=https://t.example/token, error="insufficient_scope",scope="a:b:pull,push"';
  const parsed = parseChallenges(header);
  assert.equal(parsed.length, 2);
  assert.deepEqual(parsed[0], { scheme: 'basic', params: { realm: 'a "quoted" realm' } });
  assert.deepEqual(parsed[1]?.params, { realm: 'https://t.example/token', error: 'insufficient_scope', scope: 'a:b:pull,push' });
});

test('header arrays, empty and garbage input do not throw', () => {
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges(''), []);
  assert.equal(parseChallenges(['Basic realm="x"', 'Bearer realm="y"']).length, 2);
  assert.deepEqual(parseChallenges('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  assert.doesNotThrow(() => parseChallenges('=,=,"",\u0000 ,,'));
});
