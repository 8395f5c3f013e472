// Images for the registry tests, written straight into a content store: gzipped layer
// tars made by GNU tar from directories, a config with the matching diff_ids, a manifest
// (OCI or Docker v2.2), optionally an index over several platforms. Plus a name table
// standing in for the image metadata, and an OCI layout writer for skopeo.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { notFound } from '../../../src/errors/berth-error.js';
import { digestOf, digestHex, type Digest } from '../../../src/oci/digest.js';
import { MediaType, type Descriptor, type Platform } from '../../../src/oci/image.js';
import { formatReference, parseNormalizedReference, type ImageReference } from '../../../src/oci/reference.js';
import type { PulledImage, PullStore } from '../../../src/daemon/images/pull.js';
import type { PushStore } from '../../../src/daemon/images/push.js';
import { writeBlob, type FileContentStore } from '../../../src/store/content/file-content-store.js';

export interface BuiltImage {
  manifest: Descriptor;
  manifestBytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: Digest[];
}

export type LayerSpec = { files: Record<string, string | Buffer> } | { dir: string };

/** Layers from file maps or directories, packed with GNU tar (numeric owners, sorted). */
export async function buildImage(store: FileContentStore, specs: readonly LayerSpec[],
  options: { platform?: Platform; format?: 'oci' | 'docker'; cmd?: string[]; compression?: 'gzip' | 'zstd' } = {}): Promise<BuiltImage> {
  const docker = options.format === 'docker';
  const zstd = options.compression === 'zstd';
  const gzipType = docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip;
  const layerType = zstd ? (docker ? MediaType.dockerLayerZstd : MediaType.ociLayerZstd) : gzipType;
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  for (const spec of specs) {
    const tar = await tarOf(spec);
    const gz = zstd ? execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 }) : gzipSync(tar, { level: 1 });
    const descriptor: Descriptor = { mediaType: layerType, digest: digestOf(gz), size: gz.byteLength };
    await writeBlob(store, gz, { digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType });
    layers.push(descriptor);
    diffIds.push(digestOf(tar));
  }
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const configBytes = Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}),
    created: '2026-01-01T00:00:00Z',
    config: { Cmd: options.cmd ?? ['/bin/sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  }));
  const config: Descriptor = { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: digestOf(configBytes), size: configBytes.byteLength };
  await writeBlob(store, configBytes, { digest: config.digest, size: config.size, mediaType: config.mediaType });
  const manifestMediaType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: manifestMediaType, config, layers }));
  const manifest: Descriptor = { mediaType: manifestMediaType, digest: digestOf(manifestBytes), size: manifestBytes.byteLength, platform };
  await writeBlob(store, manifestBytes, { digest: manifest.digest, size: manifest.size, mediaType: manifestMediaType });
  return { manifest, manifestBytes, config, layers, diffIds };
}

export async function buildIndex(store: FileContentStore, images: readonly BuiltImage[]): Promise<{ index: Descriptor; bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: images.map((i) => i.manifest) }));
  const index: Descriptor = { mediaType: MediaType.ociIndex, digest: digestOf(bytes), size: bytes.byteLength };
  await writeBlob(store, bytes, { digest: index.digest, size: index.size, mediaType: index.mediaType });
  return { index, bytes };
}

async function tarOf(spec: LayerSpec): Promise<Buffer> {
  let dir: string;
  let temp: string | undefined;
  if ('dir' in spec) dir = spec.dir;
  else {
    temp = await mkdtemp(path.join(os.tmpdir(), 'berth-layer-test-'));
    dir = temp;
    for (const [name, content] of Object.entries(spec.files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), content);
    }
  }
  try {
    return execFileSync('tar', ['-C', dir, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-cf', '-', '.'],
      { maxBuffer: 1 << 30 });
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}

/** The image names table and unpack hook a real images service would provide. */
export class NameTable {
  readonly names = new Map<string, Descriptor>();
  readonly unpacked: PulledImage[] = [];

  pullStore(content: FileContentStore): PullStore {
    return {
      content,
      unpack: async (image) => { this.unpacked.push(image); },
      tag: async (ref, target) => { this.names.set(formatReference(ref), target); },
    };
  }

  pushStore(content: FileContentStore): PushStore {
    return {
      content,
      resolve: async (ref: ImageReference) => {
        const found = this.names.get(formatReference(ref));
        if (found === undefined) throw notFound('NO_SUCH_IMAGE', `no such image: ${formatReference(ref)}`);
        return found;
      },
      namesOf: async (target: Descriptor) => [...this.names].filter(([, d]) => d.digest === target.digest)
        .map(([name]) => parseNormalizedReference(name)),
    };
  }
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/) for skopeo's oci: transport. */
export async function writeOciLayout(store: FileContentStore, dir: string, image: BuiltImage, tag: string): Promise<void> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const d of [image.manifest, image.config, ...image.layers]) {
    await writeFile(path.join(dir, 'blobs', 'sha256', digestHex(d.digest)), await store.readBlob(d.digest, 1 << 30));
  }
  const { platform: _platform, ...manifest } = image.manifest;
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
}
