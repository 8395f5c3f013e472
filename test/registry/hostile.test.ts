// A registry that lies: wrong digests, wrong sizes, oversized and malformed manifests,
// redirect loops, bad configs. Each pull must fail with an error naming the reference or
// digest, and the content store must hold exactly what it held before (no blob, no ingest).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '../../src/errors/berth-error.js';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/image.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { FileContentStore, writeBlob } from '../../src/store/content/file-content-store.js';
import { NameTable } from './support/image-fixtures.js';

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const layer = Buffer.from('not really a tar, but the bytes are what matter here'.repeat(100));
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf('x')] } }));

function manifestFor(layers: Array<{ digest: Digest; size: number }>, cfg = { digest: digestOf(config), size: config.byteLength }): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...cfg },
    layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, ...l })),
  }));
}

describe('a hostile registry', () => {
  let server: http.Server;
  let host: string;
  let client: RegistryClient;
  let work: string;
  const routes = new Map<string, Route>();

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'berth-hostile-registry-'));
    server = http.createServer((req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      const route = routes.get(`${req.method} ${pathname}`) ?? (pathname === '/v2/' ? (_q, r) => r.end('{}') : undefined);
      if (route === undefined) res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
      else route(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    host = `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    client = new RegistryClient();
  });
  after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(work, { recursive: true, force: true });
  });

  /** Serves `manifest` under `repo:tag`, and `blobs`; returns the store state check. */
  function serve(repo: string, manifest: Buffer, blobs: Record<string, Buffer>, headers: Record<string, string> = {}): void {
    routes.set(`GET /v2/${repo}/manifests/v1`, (_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': digestOf(manifest), ...headers }).end(manifest);
    });
    for (const [digest, bytes] of Object.entries(blobs)) {
      routes.set(`GET /v2/${repo}/blobs/${digest}`, (_req, res) => res.writeHead(200, { 'content-length': bytes.byteLength }).end(bytes));
    }
  }

  async function expectRejected(repo: string, check: (err: unknown) => boolean): Promise<void> {
    const store = new FileContentStore(await mkdtemp(path.join(work, 'store-')));
    const keep = Buffer.from('an unrelated blob that must survive');
    await writeBlob(store, keep, { digest: digestOf(keep) });
    await assert.rejects(pullImage(client, new NameTable().pullStore(store), `${host}/${repo}:v1`), (err) => {
      assert.ok(check(err), `unexpected error: ${String(err)}`);
      return true;
    });
    const blobs: string[] = [];
    await store.walk((info) => { blobs.push(info.digest); });
    assert.deepEqual(blobs, [digestOf(keep)], 'the store holds what it held before');
    assert.deepEqual(await readdir(path.join(store.root, 'ingest')).catch(() => []), [], 'no ingest left behind');
  }

  test('a manifest whose Docker-Content-Digest does not match its bytes', async () => {
    const manifest = manifestFor([]);
    serve('lie/digest-header', manifest, {}, { 'docker-content-digest': digestOf('something else') });
    await expectRejected('lie/digest-header', (err) => isBerthError(err) && err.code === 'DIGEST_MISMATCH'
      && err.message.includes(`${host}/lie/digest-header:v1`));
  });

  test('a manifest fetched by digest that hashes to something else', async () => {
    const wanted = digestOf('the manifest we asked for');
    routes.set(`GET /v2/lie/by-digest/manifests/${wanted}`, (_req, res) => res.writeHead(200, { 'content-type': MediaType.ociManifest }).end(manifestFor([])));
    const store = new FileContentStore(await mkdtemp(path.join(work, 'store-')));
    await assert.rejects(pullImage(client, new NameTable().pullStore(store), `${host}/lie/by-digest@${wanted}`),
      (err) => isBerthError(err) && err.code === 'DIGEST_MISMATCH' && err.message.includes(wanted));
  });

  test('an oversized manifest is refused before it is buffered whole', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    serve('lie/huge', huge, {});
    await expectRejected('lie/huge', (err) => isBerthError(err) && err.code === 'REGISTRY_RESPONSE_TOO_LARGE');
  });

  test('a manifest that is not JSON', async () => {
    serve('lie/not-json', Buffer.from('{"schemaVersion": 2, '), {});
    await expectRejected('lie/not-json', (err) => isBerthError(err, 'invalid_argument') && err.message.includes('lie/not-json'));
  });

  test('a layer whose bytes do not match its digest', async () => {
    const claimed = digestOf('other bytes of the same length?');
    serve('lie/layer-digest', manifestFor([{ digest: claimed, size: layer.byteLength }]),
      { [digestOf(config)]: config, [claimed]: layer });
    await expectRejected('lie/layer-digest', (err) => isBerthError(err) && err.code === 'DIGEST_MISMATCH' && err.message.includes(claimed));
  });

  test('a layer longer than its descriptor says', async () => {
    const digest = digestOf(layer);
    serve('lie/layer-size', manifestFor([{ digest, size: 100 }]), { [digestOf(config)]: config, [digest]: layer });
    await expectRejected('lie/layer-size', (err) => isBerthError(err) && err.code === 'SIZE_MISMATCH' && err.message.includes(digest));
  });

  test('a blob that redirects forever', async () => {
    const digest = digestOf(layer);
    serve('lie/loop', manifestFor([{ digest, size: layer.byteLength }]), { [digestOf(config)]: config });
    routes.set(`GET /v2/lie/loop/blobs/${digest}`, (_req, res) => res.writeHead(307, { location: `/v2/lie/loop/blobs/${digest}?again=${Math.random()}` }).end());
    await expectRejected('lie/loop', (err) => isBerthError(err) && err.code === 'REGISTRY_REDIRECT_LOOP');
  });

  test('a config that is not an image config', async () => {
    const bad = Buffer.from('{"architecture": 5}');
    serve('lie/config', manifestFor([], { digest: digestOf(bad), size: bad.byteLength }), { [digestOf(bad)]: bad });
    await expectRejected('lie/config', (err) => isBerthError(err, 'invalid_argument') && err.message.includes(digestOf(bad)));
  });

  test('a manifest whose layers do not match the config diff_ids', async () => {
    serve('lie/count', manifestFor([]), { [digestOf(config)]: config });
    await expectRejected('lie/count', (err) => isBerthError(err) && err.code === 'LAYER_COUNT_MISMATCH');
  });
});
