import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenApi, parseHost } from './listener.js';
import { Router } from './router.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('hosts parse as dockerd spells them; tcp off loopback needs tls', async () => {
  assert.deepEqual(parseHost('unix:///run/berth/berth.sock'), { kind: 'unix', path: '/run/berth/berth.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseHost('tcp://0.0.0.0'), { kind: 'tcp', host: '0.0.0.0', port: 2375 });
  assert.throws(() => parseHost('unix://relative.sock'), /must be absolute/);
  assert.throws(() => parseHost('http://x'), /invalid -H/);
  await assert.rejects(listenApi(new Router(quiet), { hosts: ['tcp://0.0.0.0:0'] }, quiet), /without tls/);
  const loopback = await listenApi(new Router(quiet), { hosts: ['tcp://127.0.0.1:0'] }, quiet);
  await loopback.close();
});
