// Push with berth to Debian's docker-registry and pull back into an empty store:
// anonymous, htpasswd (Basic) and token (Bearer) auth, cross-repository mounts, existing
// blobs skipped, an index over two platforms, and a download that resumes with Range
// after the proxy in front of the registry cuts the connection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { isBerthError } from '../../src/errors/berth-error.js';
import { RegistryClient } from '../../src/registry/client.js';
import { DockerCredentialStore } from '../../src/registry/auth/credentials.js';
import { login, logout } from '../../src/registry/login.js';
import type { ProgressEvent } from '../../src/registry/progress.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { parseNormalizedReference, formatReference } from '../../src/oci/reference.js';
import { startRegistry, processGone, type RunningRegistry } from './support/registry-server.js';
import { startTokenServer, type RunningTokenServer } from './support/token-server.js';
import { startCuttingProxy } from './support/cutting-proxy.js';
import { buildImage, buildIndex, NameTable, type BuiltImage } from './support/image-fixtures.js';

const skip = requires('registry');
const token = Math.random().toString(36).slice(2, 8);

let work: string;
let rootfs: string;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), `berth-registry-${token}-`));
  rootfs = await makeBusyboxRootfs(path.join(work, 'rootfs'), { probe: false });
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function freshStore(name: string): Promise<FileContentStore> {
  return new FileContentStore(await mkdtemp(path.join(work, `${name}-`)));
}

async function sourceImage(): Promise<{ store: FileContentStore; names: NameTable; image: BuiltImage }> {
  const store = await freshStore('source');
  const image = await buildImage(store, [{ dir: rootfs }, { files: { 'etc/berth-test': `hello ${token}\n` } }]);
  return { store, names: new NameTable(), image };
}

async function blobDigests(store: FileContentStore): Promise<string[]> {
  const out: string[] = [];
  await store.walk((info) => { out.push(info.digest); });
  return out.sort();
}

async function ingestsLeft(store: FileContentStore): Promise<string[]> {
  return await readdir(path.join(store.root, 'ingest')).catch(() => []);
}

describe('anonymous registry', { skip }, () => {
  let registry: RunningRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry();
    client = new RegistryClient();
  });
  after(async () => {
    client.close();
    await registry.stop();
    assert.ok(processGone(registry.pid), 'the registry process is gone');
  });

  test('push, pull into an empty store, same digests; a second push skips every blob', async () => {
    const { store, names, image } = await sourceImage();
    const name = `${registry.host}/berth/${token}/app:v1`;
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    const pushEvents: ProgressEvent[] = [];
    const pushed = await pushImage(client, names.pushStore(store), name, { onProgress: (e) => pushEvents.push(e) });
    assert.equal(pushed.pushed.digest, image.manifest.digest);
    assert.equal(pushEvents.filter((e) => e.status === 'Pushed').length, 2);

    const target = await freshStore('pulled');
    const pulledNames = new NameTable();
    const events: ProgressEvent[] = [];
    const pulled = await pullImage(client, pulledNames.pullStore(target), name, { onProgress: (e) => events.push(e) });
    assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
    assert.equal(pulled.configDescriptor.digest, image.config.digest);
    assert.deepEqual(pulled.config.rootfs.diff_ids, image.diffIds);
    assert.deepEqual(await blobDigests(target), await blobDigests(store));
    assert.equal(pulledNames.names.get(formatReference(parseNormalizedReference(name)))?.digest, image.manifest.digest);
    assert.equal(pulledNames.unpacked.length, 1);
    assert.ok(events.some((e) => e.status === 'Download complete'));
    assert.equal(pulled.upToDate, false);
    assert.ok(events.some((e) => e.status === `Pulling from berth/${token}/app`));
    assert.deepEqual(await ingestsLeft(target), []);

    const again: ProgressEvent[] = [];
    await pushImage(client, names.pushStore(store), name, { onProgress: (e) => again.push(e) });
    assert.equal(again.filter((e) => e.status === 'Layer already exists').length, 2);
    const repeat = await pullImage(client, pulledNames.pullStore(target), name);
    assert.equal(repeat.upToDate, true);
    assert.deepEqual(await client.repository(registry.host, `berth/${token}/app`).listTags(), ['v1']);
  });

  test('a push to a second repository mounts the blobs from the first', async () => {
    const { store, names, image } = await sourceImage();
    const first = `${registry.host}/berth/${token}/mount-src:v1`;
    const second = `${registry.host}/berth/${token}/mount-dst:v1`;
    names.names.set(formatReference(parseNormalizedReference(first)), image.manifest);
    names.names.set(formatReference(parseNormalizedReference(second)), image.manifest);
    await pushImage(client, names.pushStore(store), first);
    const events: ProgressEvent[] = [];
    await pushImage(client, names.pushStore(store), second, {
      mountFrom: [`berth/${token}/mount-src`], onProgress: (e) => events.push(e),
    });
    assert.equal(events.filter((e) => e.status === `Mounted from berth/${token}/mount-src`).length, 2);
    const head = await client.repository(registry.host, `berth/${token}/mount-dst`).headManifest('v1');
    assert.equal(head?.digest, image.manifest.digest);

    // no explicit source: another name of the image on the same registry is tried, as after `docker tag`
    const third = `${registry.host}/berth/${token}/mount-tagged:v1`;
    names.names.set(formatReference(parseNormalizedReference(third)), image.manifest);
    const tagged: ProgressEvent[] = [];
    await pushImage(client, names.pushStore(store), third, { onProgress: (e) => tagged.push(e) });
    assert.equal(tagged.filter((e) => e.status.startsWith('Mounted from berth/')).length, 2);
  });

  test('chunked and monolithic uploads produce the same blobs', async () => {
    const { store, names, image } = await sourceImage();
    for (const mode of ['chunked', 'monolithic'] as const) {
      const name = `${registry.host}/berth/${token}/upload-${mode}:v1`;
      names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
      await pushImage(client, names.pushStore(store), name, { uploadMode: mode });
      const repo = client.repository(registry.host, `berth/${token}/upload-${mode}`);
      for (const layer of image.layers) assert.equal(await repo.blobSize(layer.digest), layer.size);
    }
  });

  test('an index over two platforms: pushed whole, pulled for linux/amd64, pushed back as the amd64 manifest', async () => {
    const store = await freshStore('multi');
    const amd64 = await buildImage(store, [{ files: { 'etc/arch': 'amd64\n' } }], { platform: { os: 'linux', architecture: 'amd64' } });
    const arm64 = await buildImage(store, [{ files: { 'etc/arch': 'arm64\n' } }], { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const { index } = await buildIndex(store, [amd64, arm64]);
    const names = new NameTable();
    const name = `${registry.host}/berth/${token}/multi:v1`;
    names.names.set(formatReference(parseNormalizedReference(name)), index);
    const pushed = await pushImage(client, names.pushStore(store), name);
    assert.equal(pushed.pushed.digest, index.digest);

    const target = await freshStore('multi-pulled');
    const pulledNames = new NameTable();
    const pulled = await pullImage(client, pulledNames.pullStore(target), name);
    assert.equal(pulled.target.digest, index.digest);
    assert.equal(pulled.manifestDescriptor.digest, amd64.manifest.digest);
    const have = await blobDigests(target);
    assert.ok(!have.includes(arm64.layers[0]?.digest ?? ''), 'the arm64 layer was not fetched');

    await assert.rejects(pullImage(client, new NameTable().pullStore(await freshStore('s390x')), name, { platform: { os: 'linux', architecture: 's390x' } }),
      (err) => isBerthError(err, 'not_found') && err.message.includes('linux/s390x') && err.message.includes('linux/arm64/v8'));

    const byDigest = await pullImage(client, new NameTable().pullStore(await freshStore('by-digest')),
      `${registry.host}/berth/${token}/multi@${arm64.manifest.digest}`);
    assert.equal(byDigest.manifestDescriptor.digest, arm64.manifest.digest, 'a manifest named by digest is taken as it is');
    assert.equal(byDigest.config.architecture, 'arm64');

    const copy = `${registry.host}/berth/${token}/multi-copy:v1`;
    pulledNames.names.set(formatReference(parseNormalizedReference(copy)), pulled.target);
    const back = await pushImage(client, pulledNames.pushStore(target), copy);
    assert.equal(back.pushed.digest, amd64.manifest.digest);
  });

  test('a download cut halfway resumes with a Range request', async () => {
    const { store, names, image } = await sourceImage();
    const name = `${registry.host}/berth/${token}/resume:v1`;
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    await pushImage(client, names.pushStore(store), name);
    const proxy = await startCuttingProxy(registry.port, { minSize: 4096 });
    const proxied = new RegistryClient();
    try {
      const target = await freshStore('resumed');
      const pulled = await pullImage(proxied, new NameTable().pullStore(target), `${proxy.host}/berth/${token}/resume:v1`);
      assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
      const big = image.layers.find((l) => l.size >= 4096);
      assert.ok(big !== undefined);
      assert.ok(proxy.cut.some((p) => p.endsWith(big.digest)), 'the proxy cut the big layer');
      assert.ok(proxy.ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r)), `a Range request followed: ${proxy.ranges.join(', ')}`);
      assert.deepEqual(await blobDigests(target), await blobDigests(store));
      assert.deepEqual(await ingestsLeft(target), []);
    } finally {
      proxied.close();
      await proxy.stop();
    }
  });

  test('a pull that fails mid-layer keeps the partial ingest and the next pull continues it', async () => {
    const { store, names, image } = await sourceImage();
    const name = `${registry.host}/berth/${token}/later:v1`;
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    await pushImage(client, names.pushStore(store), name);
    const proxy = await startCuttingProxy(registry.port, { minSize: 4096, failAfterCut: true });
    const proxied = new RegistryClient();
    try {
      const target = await freshStore('later');
      const proxiedName = `${proxy.host}/berth/${token}/later:v1`;
      await assert.rejects(pullImage(proxied, new NameTable().pullStore(target), proxiedName, { concurrency: 1 }),
        (err) => isBerthError(err, 'unavailable'));
      assert.equal((await ingestsLeft(target)).length, 1, 'the partial layer is kept');
      assert.ok(!(await blobDigests(target)).includes(image.manifest.digest), 'no manifest stored for an incomplete image');
      proxy.heal();
      const names2 = new NameTable();
      const pulled = await pullImage(proxied, names2.pullStore(target), proxiedName);
      assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
      assert.ok(proxy.ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r)), `the second pull continued with Range: ${proxy.ranges.join(', ')}`);
      assert.deepEqual(await blobDigests(target), await blobDigests(store));
      assert.deepEqual(await ingestsLeft(target), []);
    } finally {
      proxied.close();
      await proxy.stop();
    }
  });

  test('pulling a missing tag names the reference and leaves the store empty', async () => {
    const target = await freshStore('missing');
    const name = `${registry.host}/berth/${token}/nothing:v1`;
    await assert.rejects(pullImage(client, new NameTable().pullStore(target), name), (err) => {
      assert.ok(isBerthError(err, 'not_found'));
      assert.match(err.message, new RegExp(`berth/${token}/nothing:v1`));
      return true;
    });
    assert.deepEqual(await blobDigests(target), []);
  });
});

describe('registry with htpasswd (Basic) auth', { skip }, () => {
  let registry: RunningRegistry;
  let configDir: string;
  before(async () => {
    registry = await startRegistry({ kind: 'htpasswd', users: { alice: `secret-${token}` } });
    configDir = await mkdtemp(path.join(work, 'docker-config-'));
  });
  after(async () => {
    await registry.stop();
  });

  test('without credentials a push is refused; login stores them, push and pull work, logout forgets', async () => {
    const { store, names, image } = await sourceImage();
    const name = `${registry.host}/berth/${token}/private:v1`;
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    const credentials = new DockerCredentialStore(configDir);
    const anonymous = new RegistryClient({ credentials });
    await assert.rejects(pushImage(anonymous, names.pushStore(store), name), (err) => isBerthError(err, 'unauthorized'));
    anonymous.close();

    const client = new RegistryClient({ credentials });
    try {
      await assert.rejects(login(client, credentials, registry.host, { username: 'alice', password: `bad-${token}` }), (err) => {
        assert.ok(isBerthError(err, 'unauthorized'));
        assert.ok(!err.message.includes(`bad-${token}`), 'the password is not in the message');
        return true;
      });
      const result = await login(client, credentials, registry.host, { username: 'alice', password: `secret-${token}` });
      assert.equal(result.status, 'Login Succeeded');
      assert.deepEqual(await credentials.get(registry.host), { username: 'alice', password: `secret-${token}` });
    } finally {
      client.close();
    }

    const authed = new RegistryClient({ credentials });
    try {
      await pushImage(authed, names.pushStore(store), name);
      const target = await freshStore('private-pulled');
      const pulled = await pullImage(authed, new NameTable().pullStore(target), name);
      assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
    } finally {
      authed.close();
    }
    await logout(credentials, registry.host);
    assert.equal(await credentials.get(registry.host), undefined);
  });
});

describe('registry with token (Bearer) auth', { skip }, () => {
  let registry: RunningRegistry;
  let tokens: RunningTokenServer;
  let configDir: string;
  before(async () => {
    configDir = await mkdtemp(path.join(work, 'token-config-'));
    tokens = await startTokenServer(configDir, { bob: `pw-${token}` });
    registry = await startRegistry({ kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile });
  });
  after(async () => {
    await registry.stop();
    await tokens.stop();
  });

  test('anonymous pull is allowed, anonymous push is refused, push with credentials works, tokens are cached', async () => {
    const { store, names, image } = await sourceImage();
    const name = `${registry.host}/berth/${token}/tok:v1`;
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    const credentials = new DockerCredentialStore(configDir);

    const anonymous = new RegistryClient({ credentials });
    await assert.rejects(pushImage(anonymous, names.pushStore(store), name), (err) => isBerthError(err, 'unauthorized') || isBerthError(err, 'forbidden'));
    anonymous.close();

    await credentials.store(registry.host, { username: 'bob', password: `pw-${token}` });
    const authed = new RegistryClient({ credentials });
    const before = tokens.requests.length;
    try {
      await pushImage(authed, names.pushStore(store), name);
    } finally {
      authed.close();
    }
    const pushRequests = tokens.requests.slice(before);
    assert.ok(pushRequests.every((r) => r.account === 'bob' && r.service === tokens.service));
    assert.ok(pushRequests.some((r) => r.scopes.includes(`repository:berth/${token}/tok:pull,push`)));
    assert.ok(pushRequests.length <= 3, `tokens are cached per scope (${pushRequests.length} token requests)`);

    await credentials.erase(registry.host);
    const reader = new RegistryClient({ credentials });
    try {
      const target = await freshStore('token-pulled');
      const pulled = await pullImage(reader, new NameTable().pullStore(target), name);
      assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
      assert.ok(tokens.requests.some((r) => !r.authorized && r.scopes.includes(`repository:berth/${token}/tok:pull`)));
    } finally {
      reader.close();
    }
  });

  test('login against the token realm checks the password', async () => {
    const credentials = new DockerCredentialStore(configDir);
    const client = new RegistryClient({ credentials });
    try {
      await assert.rejects(login(client, credentials, registry.host, { username: 'bob', password: 'nope' }), (err) => isBerthError(err, 'unauthorized'));
      const ok = await login(client, credentials, registry.host, { username: 'bob', password: `pw-${token}` });
      assert.equal(ok.status, 'Login Succeeded');
    } finally {
      client.close();
    }
  });
});
