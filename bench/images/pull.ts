// bench/images/pull: a ~200 MB image of several layers on Debian's docker-registry on
// loopback, pulled by berth into an empty content store and copied by `skopeo copy` to a
// local directory (the same work: fetch and verify every blob), median of a few runs each,
// printed as a ratio measured in the same run. Also a push of the same image by both.
// Run alone with `node dist/bench/images/pull.js [sizeMB] [runs]`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { FileContentStore, writeBlob } from '../../src/store/content/file-content-store.js';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import { MediaType, type Descriptor } from '../../src/oci/image.js';
import { formatReference, parseNormalizedReference } from '../../src/oci/reference.js';
import { startRegistry } from '../../test/registry/support/registry-server.js';
import { NameTable, writeOciLayout, type BuiltImage } from '../../test/registry/support/image-fixtures.js';

export interface PullBenchResult {
  berthPullMs: number;
  skopeoPullMs: number;
  berthPushMs: number;
  skopeoPushMs: number;
}

export async function runPullBench(totalMb = 200, runs = 3): Promise<PullBenchResult | undefined> {
  if (!existsSync('/usr/bin/docker-registry') || !existsSync('/usr/bin/skopeo')) {
    console.log('bench/images/pull: skipped (needs docker-registry and skopeo)');
    return undefined;
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-pull-'));
  const registry = await startRegistry();
  const client = new RegistryClient();
  try {
    const source = new FileContentStore(path.join(work, 'source'));
    const image = await makeImage(source, totalMb);
    await writeOciLayout(source, path.join(work, 'layout'), image, 'v1');
    const names = new NameTable();
    // each push goes to a fresh registry, so neither tool can skip or mount blobs from an earlier run
    const berthPush = await median(runs, async (i) => await withRegistry(async (host) => {
      const name = `${host}/bench/berth-push-${i}:v1`;
      names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
      return await timed(async () => { await pushImage(client, names.pushStore(source), name); });
    }));
    const skopeoPush = await median(runs, async (i) => await withRegistry(async (host) => await timed(async () => {
      skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${path.join(work, 'layout')}:v1`, `docker://${host}/bench/skopeo-push-${i}:v1`]);
    })));
    const names0 = new NameTable();
    const pushedName = `${registry.host}/bench/berth-push-0:v1`;
    names0.names.set(formatReference(parseNormalizedReference(pushedName)), image.manifest);
    await pushImage(client, names0.pushStore(source), pushedName);
    const name = `${registry.host}/bench/berth-push-0:v1`;
    const berthPull = await median(runs, async (i) => {
      const store = new FileContentStore(path.join(work, `pull-${i}`));
      const ms = await timed(async () => { await pullImage(client, new NameTable().pullStore(store), name); });
      await rm(store.root, { recursive: true, force: true });
      return ms;
    });
    const skopeoPull = await median(runs, async (i) => {
      const dir = path.join(work, `skopeo-${i}`);
      const ms = await timed(async () => { skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${name}`, `dir:${dir}`]); });
      await rm(dir, { recursive: true, force: true });
      return ms;
    });
    const mb = image.layers.reduce((n, l) => n + l.size, 0) / 1e6;
    console.log(`bench/images/pull: ${mb.toFixed(0)} MB in ${image.layers.length} layers, median of ${runs}`);
    report('pull  berth', berthPull, 'skopeo copy docker:// -> dir:', skopeoPull, mb);
    report('push  berth', berthPush, 'skopeo copy oci: -> docker://', skopeoPush, mb);
    return { berthPullMs: berthPull, skopeoPullMs: skopeoPull, berthPushMs: berthPush, skopeoPushMs: skopeoPush };
  } finally {
    client.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Uncompressed tar layers of incompressible data, so sizes on the wire are what they say. */
async function makeImage(store: FileContentStore, totalMb: number): Promise<BuiltImage> {
  const layerMb = [0.4, 0.3, 0.2, 0.1].map((f) => Math.max(1, Math.round(totalMb * f)));
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  for (const [i, mb] of layerMb.entries()) {
    const dir = path.join(store.root, '..', `layer-${i}`);
    await mkdir(dir, { recursive: true });
    await writeRandomFile(path.join(dir, `data-${i}.bin`), mb * 1024 * 1024);
    const tar = execFileSync('tar', ['-C', dir, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 1 << 30 });
    await rm(dir, { recursive: true, force: true });
    const descriptor: Descriptor = { mediaType: MediaType.ociLayer, digest: digestOf(tar), size: tar.byteLength };
    await writeBlob(store, tar, { digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType });
    layers.push(descriptor);
    diffIds.push(descriptor.digest);
  }
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  const config: Descriptor = { mediaType: MediaType.ociConfig, digest: digestOf(configBytes), size: configBytes.byteLength };
  await writeBlob(store, configBytes, { digest: config.digest, size: config.size });
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }));
  const manifest: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(manifestBytes), size: manifestBytes.byteLength };
  await writeBlob(store, manifestBytes, { digest: manifest.digest, size: manifest.size, mediaType: manifest.mediaType });
  return { manifest, manifestBytes, config, layers, diffIds };
}

async function withRegistry<T>(work: (host: string) => Promise<T>): Promise<T> {
  const registry = await startRegistry();
  try {
    return await work(registry.host);
  } finally {
    await registry.stop();
  }
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (let done = 0; done < bytes; done += chunk.byteLength) {
      randomFillSync(chunk);
      await handle.write(chunk, 0, Math.min(chunk.byteLength, bytes - done));
    }
  } finally {
    await handle.close();
  }
}

function skopeo(args: string[]): void {
  execFileSync('skopeo', ['--insecure-policy', ...args], { stdio: 'ignore' });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function median(runs: number, measure: (i: number) => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await measure(i));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

function report(label: string, ours: number, otherLabel: string, theirs: number, mb: number): void {
  const ratio = ours / theirs;
  console.log(`  ${label}: ${ours.toFixed(0)} ms (${(mb / (ours / 1000)).toFixed(0)} MB/s) | ${otherLabel}: ${theirs.toFixed(0)} ms`
    + ` | ratio berth/skopeo ${ratio.toFixed(2)} (${ratio <= 1 ? 'berth faster or equal' : 'berth slower'})`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [size, runs] = process.argv.slice(2).map(Number);
  await runPullBench(size || 200, runs || 3);
}
