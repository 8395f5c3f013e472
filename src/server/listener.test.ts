import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { createServer, type AddressInfo } from 'node:net';
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

// a self-signed P-256 certificate and its key (fixture, valid until 2126)
const CERT = `-----BEGIN CERTIFICATE-----
MIIBijCCATGgAwIBAgIUPvW3ImDiZMqKkKdtuw/mh36iwnQwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPYmVydGggdW5pdCB0ZXN0MCAXDTI2MTEyODEyMjMyM1oYDzIx
MjYxMTA0MTIyMzIzWjAaMRgwFgYDVQQDDA9iZXJ0aCB1bml0IHRlc3QwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAS8PTJtQfn/CYfxnGm+BbuflQ8DxSQfTqLe9X9K
h1YK+3e7J+E+Weh1dn6hyygSAx6poPPwTuNE5AbNNvn013KBo1MwUTAdBgNVHQ4E
FgQUV0lAz9NXq78AzAaQF3Pg4Rv8r3swHwYDVR0jBBgwFoAUV0lAz9NXq78AzAaQ
F3Pg4Rv8r3swDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBPcA48
Cht4GQ/j9YV8CaWnyYy2WfmVwnEIY5gi7nmYBAIgCDhL1A455KFg199Rkpl+zvqm
fN+tkEZxa5CtDMV119Q=
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3hm59BraNHw+0r65
fgf6EptzhpMgMSZzxIiJiKvtLAuhRANCAAS8PTJtQfn/CYfxnGm+BbuflQ8DxSQf
TqLe9X9Kh1YK+3e7J+E+Weh1dn6hyygSAx6poPPwTuNE5AbNNvn013KB
-----END PRIVATE KEY-----
`;
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const TLS = { verify: true, ca: '/pki/ca.pem', cert: '/pki/cert.pem', key: '/pki/key.pem' };
const PEMS: Record<string, string> = { '/pki/ca.pem': CERT, '/pki/cert.pem': CERT, '/pki/key.pem': KEY };

test('prepareListen reads each certificate file once for every tcp host, and names one it cannot read or parse', () => {
  const reads: string[] = [];
  const reader = (file: string): Buffer => { reads.push(file); return Buffer.from(PEMS[file] ?? 'not a pem'); };
  const plan = prepareListen({ hosts: ['unix:///run/b.sock', 'tcp://0.0.0.0:2376', 'tcp://127.0.0.1:2377', 'fd://'], tls: TLS }, reader);
  assert.deepEqual(reads.sort(), ['/pki/ca.pem', '/pki/cert.pem', '/pki/key.pem']);
  assert.deepEqual(plan.hosts.map((h) => h.kind), ['unix', 'tcp', 'tcp', 'activated']);
  const [, first, second] = plan.hosts;
  assert.ok(first?.kind === 'tcp' && second?.kind === 'tcp');
  assert.equal(first.secure, second.secure, 'one set of https options, shared');
  assert.equal(String(first.secure?.cert), CERT);
  assert.equal(first.secure?.rejectUnauthorized, true);

  const unix = prepareListen({ hosts: ['unix:///run/b.sock'], tls: TLS }, () => { throw new Error('a unix socket needs no certificate'); });
  assert.deepEqual(unix.hosts, [{ spec: 'unix:///run/b.sock', kind: 'unix', path: '/run/b.sock' }]);
  const missing = Object.assign(new Error('no such file'), { code: 'ENOENT' });
  assert.throws(() => prepareListen({ hosts: ['tcp://0.0.0.0:2376'], tls: { ...TLS, cert: '/pki/gone.pem' } },
    (file) => { if (file === '/pki/gone.pem') throw missing; return Buffer.from(PEMS[file] ?? ''); }), /cannot read --tlscert \/pki\/gone\.pem: ENOENT/);
  assert.throws(() => prepareListen({ hosts: ['tcp://0.0.0.0:2376'], tls: { ...TLS, key: '/pki/cert.pem' } }, reader),
    /invalid tls files \(--tlscert \/pki\/cert\.pem, --tlskey \/pki\/cert\.pem, --tlscacert \/pki\/ca\.pem\)/);
  assert.throws(() => prepareListen({ hosts: ['tcp://10.1.2.3:2375'] }), /refusing to listen on tcp:\/\/10\.1\.2\.3:2375 without tls/);
});

test('a prepared tls listener serves with the context read at start', async () => {
  const port = await freePort();
  const plan = prepareListen({ hosts: [`tcp://127.0.0.1:${port}`], tls: { ...TLS, verify: false } }, (file) => Buffer.from(PEMS[file] ?? ''));
  const listener = await listenApi(new Router(quiet), plan, quiet);
  try {
    const subject = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.once('error', reject);
    });
    assert.equal(subject, 'berth unit test');
  } finally {
    await listener.close();
  }
});
