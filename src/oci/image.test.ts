import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaType, parseImageConfig, parseManifest, parseManifestOrIndex, selectPlatformManifest, type Index } from './image.js';

const D = (c: string): string => 'sha256:' + c.repeat(64);

test('parses a docker manifest and names a bad field', () => {
  const good = { schemaVersion: 2, mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: D('a'), size: 10 },
    layers: [{ mediaType: MediaType.dockerLayerGzip, digest: D('b'), size: 20 }] };
  assert.equal(parseManifest(JSON.stringify(good)).layers.length, 1);
  const bad = { ...good, layers: [{ ...good.layers[0], size: -1 }] };
  assert.throws(() => parseManifest(JSON.stringify(bad)), /field "layers.0.size"/);
  const badDigest = { ...good, config: { ...good.config, digest: 'sha256:../x' } };
  assert.throws(() => parseManifest(JSON.stringify(badDigest)), /field "config.digest"/);
  assert.throws(() => parseManifest('{not json'), /not valid JSON/);
});

test('detects index vs manifest and rejects schema 1', () => {
  const idx = { schemaVersion: 2, manifests: [] };
  assert.equal(parseManifestOrIndex(JSON.stringify(idx)).kind, 'index');
  assert.throws(() => parseManifestOrIndex(JSON.stringify({ schemaVersion: 1, name: 'x' })), /schema 1/);
});

test('image config validates fields', () => {
  const cfg = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('c')] }, config: { Env: ['A=1'], Cmd: ['sh'] } };
  assert.deepEqual(parseImageConfig(JSON.stringify(cfg)).config?.Cmd, ['sh']);
  assert.throws(() => parseImageConfig(JSON.stringify({ ...cfg, config: { Env: 'A=1' } })), /field "config.Env"/);
});

test('selects a platform from an index, respecting variants and skipping attestations', () => {
  const m = (digest: string, platform: { os: string; architecture: string; variant?: string }) =>
    ({ mediaType: MediaType.ociManifest, digest: D(digest) as never, size: 1, platform });
  const index: Index = { schemaVersion: 2, manifests: [
    m('1', { os: 'unknown', architecture: 'unknown' }), m('2', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    m('3', { os: 'linux', architecture: 'arm', variant: 'v7' }), m('4', { os: 'linux', architecture: 'amd64' }),
    m('5', { os: 'linux', architecture: 'arm64', variant: 'v8' })] };
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'amd64' })?.digest, D('4'));
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, D('3'));
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, D('2'));
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 'aarch64' })?.digest, D('5'));
  assert.equal(selectPlatformManifest(index, { os: 'linux', architecture: 's390x' }), undefined);
});
