// The real HTTP transport and credential helper process on loopback: a redirect to
// another origin (a blob CDN) must not carry the registry's Authorization header, and
// `credsStore` runs docker-credential-<name> found on PATH.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HttpTransport } from '../../src/registry/transport.js';
import { DockerCredentialStore } from '../../src/registry/auth/credentials.js';

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; origin: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, origin: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` };
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('http transport', () => {
  let cdn: { server: http.Server; origin: string };
  let registry: { server: http.Server; origin: string };
  const seen: Array<{ where: string; authorization: string | undefined }> = [];
  const transport = new HttpTransport();

  before(async () => {
    cdn = await listen((req, res) => {
      seen.push({ where: 'cdn', authorization: req.headers.authorization });
      res.end('blob bytes');
    });
    registry = await listen((req, res) => {
      seen.push({ where: 'registry', authorization: req.headers.authorization });
      if (req.url === '/same') res.writeHead(302, { location: '/final' }).end();
      else if (req.url === '/final') res.end('same origin');
      else res.writeHead(307, { location: `${cdn.origin}/signed?X-Amz-Signature=SECRET` }).end();
    });
  });
  after(async () => {
    transport.close();
    await close(cdn.server);
    await close(registry.server);
  });

  test('Authorization follows a same-origin redirect but never goes to another origin', async () => {
    const headers = { authorization: 'Bearer registry-token' };
    const same = await transport.request({ method: 'GET', url: new URL(`${registry.origin}/same`), headers });
    same.body.resume();
    assert.equal(same.status, 200);
    const away = await transport.request({ method: 'GET', url: new URL(`${registry.origin}/v2/a/blobs/x`), headers });
    const chunks: Buffer[] = [];
    for await (const chunk of away.body as AsyncIterable<Buffer>) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString(), 'blob bytes');
    assert.deepEqual(seen, [
      { where: 'registry', authorization: 'Bearer registry-token' },
      { where: 'registry', authorization: 'Bearer registry-token' },
      { where: 'registry', authorization: 'Bearer registry-token' },
      { where: 'cdn', authorization: undefined },
    ]);
    assert.equal(away.url.origin, cdn.origin);
  });

  test('a body that stalls ends in an error after the idle timeout instead of hanging', async () => {
    const stall = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only the start');
    });
    const quick = new HttpTransport({ timeoutMs: 300 });
    try {
      const response = await quick.request({ method: 'GET', url: new URL(`${stall.origin}/v2/a/blobs/x`) });
      const started = Date.now();
      await assert.rejects((async () => { for await (const _chunk of response.body) { /* drain */ } })());
      assert.ok(Date.now() - started < 5000);
    } finally {
      quick.close();
      await close(stall.server);
    }
  });

  test('an unreachable registry is named without the query string', async () => {
    await assert.rejects(transport.request({ method: 'GET', url: new URL('http://127.0.0.1:1/v2/?token=SECRET') }), (err) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /127\.0\.0\.1:1\/v2\//);
      assert.ok(!err.message.includes('SECRET'));
      return true;
    });
  });
});

describe('credential helper process', () => {
  let dir: string;
  let savedPath: string | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-credhelper-'));
    // a helper that keeps one secret in a file, speaking the docker-credential protocol
    const helper = path.join(dir, 'docker-credential-berthtest');
    await writeFile(helper, `#!/bin/sh
store="${dir}/stored.json"
case "$1" in
  store) cat > "$store" ;;
  get) read url; if [ -f "$store" ]; then cat "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) rm -f "$store" ;;
esac
`);
    await chmod(helper, 0o755);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }));
    savedPath = process.env.PATH;
    process.env.PATH = `${dir}:${savedPath ?? ''}`;
  });
  after(async () => {
    process.env.PATH = savedPath;
    await rm(dir, { recursive: true, force: true });
  });

  test('store, get and erase go through docker-credential-<credsStore>', async () => {
    const store = new DockerCredentialStore(dir);
    assert.equal(await store.get('registry.example'), undefined);
    await store.store('registry.example', { username: 'frank', password: 'helper-secret' });
    assert.ok(!(await readFile(path.join(dir, 'config.json'), 'utf8')).includes('helper-secret'));
    assert.deepEqual(await store.get('registry.example'), { username: 'frank', password: 'helper-secret' });
    assert.equal(await store.erase('registry.example'), true);
    assert.equal(await store.get('registry.example'), undefined);
  });
});
