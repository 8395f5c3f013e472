import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, isBerthError } from '../errors/berth-error.js';
import { RegistryClient } from './client.js';
import { FakeTransport } from './fake-transport.test-support.js';

const bearer = { 'www-authenticate': 'Bearer realm="https://auth.example/token",service="registry.example"' };

test('the Bearer flow: ping learns the realm, tokens are fetched per scope with credentials and cached', async () => {
  const transport = new FakeTransport((req) => {
    if (req.url.host === 'auth.example') return { status: 200, body: Buffer.from(JSON.stringify({ token: `tok-${req.url.searchParams.get('scope')}`, expires_in: 300 })) };
    if (req.url.pathname === '/v2/') return { status: 401, headers: bearer };
    const scope = req.url.pathname.includes('/blobs/') ? 'push' : 'pull';
    return req.headers?.authorization?.startsWith('Bearer tok-') ? { status: 200, body: Buffer.from('{"tags":["a"]}'), headers: { 'x-scope': scope } } : { status: 401, headers: bearer };
  });
  const client = new RegistryClient({ transport, credentials: { get: async () => ({ username: 'dave', password: 'pw' }) } });
  const repo = client.repository('registry.example', 'team/app');
  assert.deepEqual(await repo.listTags(), ['a']);
  assert.deepEqual(await repo.listTags(), ['a']);
  const tokenRequests = transport.requests.filter((r) => r.url.host === 'auth.example');
  assert.equal(tokenRequests.length, 1, 'the second call used the cached token');
  const url = tokenRequests[0]?.url;
  assert.equal(url?.searchParams.get('service'), 'registry.example');
  assert.equal(url?.searchParams.get('scope'), 'repository:team/app:pull');
  assert.equal(url?.searchParams.get('account'), 'dave');
  assert.equal(tokenRequests[0]?.headers?.authorization, `Basic ${Buffer.from('dave:pw').toString('base64')}`);
  assert.ok(transport.requests.every((r) => r.url.protocol === 'https:'));
});

test('Basic auth is sent only to the registry origin; a refusal is unauthorized without the password', async () => {
  const transport = new FakeTransport((req) => {
    if (req.url.pathname === '/v2/') return { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } };
    return { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' }, body: Buffer.from('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}') };
  });
  const client = new RegistryClient({ transport, credentials: { get: async () => ({ username: 'erin', password: 'HIDDEN' }) } });
  await assert.rejects(client.repository('registry.example', 'team/app').listTags(), (err) => {
    assert.ok(isBerthError(err, 'unauthorized'));
    assert.ok(!err.message.includes('HIDDEN'));
    assert.match(err.message, /registry\.example\/team\/app/);
    return true;
  });
  const sent = transport.requests.filter((r) => r.url.pathname !== '/v2/');
  assert.ok(sent.every((r) => r.headers?.authorization === `Basic ${Buffer.from('erin:HIDDEN').toString('base64')}`));
});

test('a non-loopback registry never falls back to plain HTTP; loopback and configured hosts do', async () => {
  const transport = new FakeTransport((req) => {
    if (req.url.protocol === 'https:') throw new BerthError('unavailable', 'REGISTRY_UNREACHABLE', 'tls failed', { detail: { tls: true } });
    return { status: 200 };
  });
  const client = new RegistryClient({ transport, insecureRegistries: ['10.0.0.0/8'] });
  await assert.rejects(client.repository('registry.example', 'a').ping(), (err) => isBerthError(err) && err.hint?.includes('insecure') === true);
  assert.ok(transport.requests.every((r) => r.url.protocol === 'https:'));
  for (const host of ['127.0.0.1:5000', 'localhost:5000', '10.9.8.7:5000']) {
    const ping = await client.repository(host, 'a').ping();
    assert.equal(ping.url.protocol, 'http:', host);
  }
});

test('an identity token is exchanged with an OAuth refresh_token POST, not sent as Basic', async () => {
  const transport = new FakeTransport((req) => {
    if (req.url.host === 'auth.example') return { status: 200, body: Buffer.from(JSON.stringify({ access_token: 'from-refresh' })) };
    if (req.url.pathname === '/v2/') return { status: 401, headers: bearer };
    return req.headers?.authorization === 'Bearer from-refresh' ? { status: 200, body: Buffer.from('{"tags":[]}') } : { status: 401, headers: bearer };
  });
  const client = new RegistryClient({ transport, credentials: { get: async () => ({ username: '', identityToken: 'REFRESH' }) } });
  assert.deepEqual(await client.repository('registry.example', 'team/app').listTags(), []);
  const tokenRequest = transport.requests.find((r) => r.url.host === 'auth.example');
  assert.equal(tokenRequest?.method, 'POST');
  assert.equal(tokenRequest?.headers?.authorization, undefined);
  const form = new URLSearchParams(Buffer.from(tokenRequest?.body as Uint8Array).toString());
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.equal(form.get('refresh_token'), 'REFRESH');
  assert.equal(form.get('scope'), 'repository:team/app:pull');
});
