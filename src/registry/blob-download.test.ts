import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/berth-error.js';
import { digestOf } from '../oci/digest.js';
import { MediaType, type Descriptor } from '../oci/image.js';
import { RegistryClient } from './client.js';
import { brokenBody, FakeTransport } from './fake-transport.test-support.js';

const blob = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
const descriptor: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: digestOf(blob), size: blob.byteLength };

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function isPing(url: URL): boolean {
  return url.pathname === '/v2/';
}

test('a dropped connection is resumed with a Range request from the byte reached', async () => {
  const transport = new FakeTransport((req) => {
    if (isPing(req.url)) return { status: 200 };
    const range = req.headers?.range;
    if (range === undefined) return { status: 200, headers: { 'content-length': String(blob.byteLength) }, body: brokenBody(blob.subarray(0, 4000)) };
    const from = Number(/bytes=(\d+)-/.exec(range)?.[1]);
    return { status: 206, headers: { 'content-range': `bytes ${from}-${blob.byteLength - 1}/${blob.byteLength}` }, body: blob.subarray(from) };
  });
  const client = new RegistryClient({ transport });
  const repo = client.repository('registry.example', 'team/app');
  const got = await collect(repo.openBlob(descriptor));
  assert.deepEqual(got, blob);
  assert.deepEqual(transport.requests.filter((r) => !isPing(r.url)).map((r) => r.headers?.range), [undefined, 'bytes=4000-']);
});

test('a registry that ignores Range has the bytes already held skipped', async () => {
  let calls = 0;
  const transport = new FakeTransport((req) => {
    if (isPing(req.url)) return { status: 200 };
    calls++;
    return calls === 1 ? { status: 200, body: brokenBody(blob.subarray(0, 3000)) } : { status: 200, body: blob };
  });
  const repo = new RegistryClient({ transport }).repository('registry.example', 'team/app');
  assert.deepEqual(await collect(repo.openBlob(descriptor)), blob);
});

test('wrong bytes fail with DIGEST_MISMATCH, too many bytes with SIZE_MISMATCH, endless drops give up', async () => {
  const wrong = Buffer.from(blob);
  wrong[5] = 0;
  const cases: Array<[Buffer | 'drop', string]> = [[wrong, 'DIGEST_MISMATCH'], [Buffer.concat([blob, Buffer.from('x')]), 'SIZE_MISMATCH'], ['drop', 'REGISTRY_CONNECTION_LOST']];
  for (const [body, code] of cases) {
    const transport = new FakeTransport((req) => {
      if (isPing(req.url)) return { status: 200 };
      return body === 'drop' ? { status: 200, body: brokenBody(Buffer.alloc(0)) } : { status: 200, body };
    });
    const repo = new RegistryClient({ transport }).repository('registry.example', 'team/app');
    await assert.rejects(collect(repo.openBlob(descriptor, { maxRetries: 2 })), (err) => {
      assert.ok(isBerthError(err), String(err));
      assert.equal(err.code, code);
      assert.ok(err.message.includes(descriptor.digest), err.message);
      return true;
    });
  }
});

test('a resumed ingest starts at its offset and a 206 for another range is refused', async () => {
  const transport = new FakeTransport((req) => {
    if (isPing(req.url)) return { status: 200 };
    return { status: 206, headers: { 'content-range': `bytes 0-${blob.byteLength - 1}/${blob.byteLength}` }, body: blob };
  });
  const repo = new RegistryClient({ transport }).repository('registry.example', 'team/app');
  await assert.rejects(collect(repo.openBlob(descriptor, { offset: 500 })), (err) => isBerthError(err) && err.code === 'REGISTRY_BAD_RESPONSE');
  assert.equal(transport.requests.at(-1)?.headers?.range, 'bytes=500-');
});

test('a busy registry (503) is tried again after a pause', async () => {
  let calls = 0;
  const transport = new FakeTransport((req) => {
    if (isPing(req.url)) return { status: 200 };
    calls++;
    return calls === 1 ? { status: 503, body: Buffer.from('{"errors":[{"code":"UNAVAILABLE"}]}') } : { status: 200, body: blob };
  });
  const repo = new RegistryClient({ transport }).repository('registry.example', 'team/app');
  assert.deepEqual(await collect(repo.openBlob(descriptor)), blob);
  assert.equal(calls, 2);
});
