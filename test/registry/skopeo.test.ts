// Interoperability with skopeo (containers/image): an image skopeo pushed (as OCI and as
// Docker v2.2) is pulled by berth and its layers unpacked into a root that runs busybox;
// an image berth pushed is copied out again by skopeo, which verifies every digest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { requires, isRoot } from '../support/requirements.js';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage, type PulledImage } from '../../src/daemon/images/pull.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { digestOf } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/image.js';
import { formatReference, parseNormalizedReference } from '../../src/oci/reference.js';
import { startRegistry, type RunningRegistry } from './support/registry-server.js';
import { buildImage, NameTable, writeOciLayout, type BuiltImage } from './support/image-fixtures.js';

const skip = requires('registry') || (existsSync('/usr/bin/skopeo') ? false : 'requires skopeo (Debian package)');
const token = Math.random().toString(36).slice(2, 8);

describe('skopeo interoperability', { skip }, () => {
  let work: string;
  let registry: RunningRegistry;
  let client: RegistryClient;
  let source: FileContentStore;
  let image: BuiltImage;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), `berth-skopeo-${token}-`));
    const rootfs = await makeBusyboxRootfs(path.join(work, 'rootfs'), { probe: false });
    source = new FileContentStore(path.join(work, 'source'));
    image = await buildImage(source, [{ dir: rootfs }, { files: { 'etc/berth-test': `from skopeo ${token}\n` } }], { cmd: ['/bin/sh'] });
    await writeOciLayout(source, path.join(work, 'layout'), image, 'v1');
    registry = await startRegistry();
    client = new RegistryClient();
  });
  after(async () => {
    client.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  for (const format of ['oci', 'v2s2'] as const) {
    test(`an image skopeo pushed (${format}) pulls and unpacks into a root that runs`, async () => {
      const name = `${registry.host}/berth/${token}/skopeo-${format}:v1`;
      skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--format', format, `oci:${path.join(work, 'layout')}:v1`, `docker://${name}`]);
      const target = new FileContentStore(path.join(work, `pulled-${format}`));
      const pulled = await pullImage(client, new NameTable().pullStore(target), name);
      const expectedType = format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
      assert.equal(pulled.manifestDescriptor.mediaType, expectedType);
      assert.deepEqual(pulled.config.rootfs.diff_ids, image.diffIds, 'same layer contents whatever the manifest format');
      const root = path.join(work, `root-${format}`);
      await unpackWithTar(target, pulled, root);
      assert.equal(runInRoot(root, ['cat', '/etc/berth-test']), `from skopeo ${token}\n`);
    });
  }

  test('an image berth pushed is copied out by skopeo with the same digests', async () => {
    const name = `${registry.host}/berth/${token}/from-berth:v1`;
    const names = new NameTable();
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    await pushImage(client, names.pushStore(source), name);
    const out = path.join(work, 'skopeo-dir');
    skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${name}`, `dir:${out}`]);
    const manifest = await readFile(path.join(out, 'manifest.json'));
    assert.equal(digestOf(manifest), image.manifest.digest);
    const inspect = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${name}`])) as { Digest?: string };
    assert.equal(inspect.Digest, image.manifest.digest);
  });
});

function skopeo(args: string[]): string {
  return execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The reference unpacker for this test: GNU tar over each verified layer, in order. */
async function unpackWithTar(store: FileContentStore, image: PulledImage, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const layer of image.manifest.layers) {
    const tar = gunzipSync(await store.readBlob(layer.digest, 1 << 30));
    execFileSync('tar', ['-C', root, '-xf', '-', '--numeric-owner'], { input: tar });
  }
}

/** Runs a busybox applet inside the root (chroot as root; the static binary directly otherwise). */
function runInRoot(root: string, argv: string[]): string {
  if (isRoot) return execFileSync('chroot', [root, '/bin/busybox', ...argv], { encoding: 'utf8' });
  const [applet, ...rest] = argv;
  return execFileSync(path.join(root, 'bin/busybox'), [applet ?? 'true', ...rest.map((a) => (a.startsWith('/') ? path.join(root, a) : a))], { encoding: 'utf8' });
}
