import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenApi, parseHost, prepareListen } from './listener.js';
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

test('prepareListen reads each certificate file once for every tcp host, and names one it cannot read', () => {
  const reads: string[] = [];
  const reader = (file: string): Buffer => { reads.push(file); return Buffer.from(`pem of ${file}`); };
  const tls = { verify: true, ca: '/pki/ca.pem', cert: '/pki/cert.pem', key: '/pki/key.pem' };
  const plan = prepareListen({ hosts: ['unix:///run/b.sock', 'tcp://0.0.0.0:2376', 'tcp://127.0.0.1:2377', 'fd://'], tls }, reader);
  assert.deepEqual(reads.sort(), ['/pki/ca.pem', '/pki/cert.pem', '/pki/key.pem']);
  assert.deepEqual(plan.hosts.map((h) => h.kind), ['unix', 'tcp', 'tcp', 'activated']);
  const [, first, second] = plan.hosts;
  assert.ok(first?.kind === 'tcp' && second?.kind === 'tcp');
  assert.equal(first.secure, second.secure, 'one set of https options, shared');
  assert.equal(String(first.secure?.cert), 'pem of /pki/cert.pem');
  assert.equal(first.secure?.rejectUnauthorized, true);

  const unix = prepareListen({ hosts: ['unix:///run/b.sock'], tls }, () => { throw new Error('a unix socket needs no certificate'); });
  assert.deepEqual(unix.hosts, [{ spec: 'unix:///run/b.sock', kind: 'unix', path: '/run/b.sock' }]);
  const missing = Object.assign(new Error('no such file'), { code: 'ENOENT' });
  assert.throws(() => prepareListen({ hosts: ['tcp://0.0.0.0:2376'], tls: { ...tls, cert: '/pki/gone.pem' } },
    (file) => { if (file === '/pki/gone.pem') throw missing; return Buffer.alloc(0); }), /cannot read --tlscert \/pki\/gone\.pem: ENOENT/);
  assert.throws(() => prepareListen({ hosts: ['tcp://10.1.2.3:2375'] }), /refusing to listen on tcp:\/\/10\.1\.2\.3:2375 without tls/);
});
