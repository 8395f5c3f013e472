// `docker import` (a root file system tarball, maybe compressed, becomes a one-layer image,
// with --change applied), `docker export` (a container's mounted root as a tar), and a
// busybox base image made from the host's busybox-static, so there is an image offline.
import { mkdir, mkdtemp, rm, symlink, writeFile, copyFile, chmod, lutimes, readdir } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../../errors/berth-error.js';
import type { ContainerConfig, ImageConfig, Platform } from '../../oci/image.js';
import { parseNormalizedReference } from '../../oci/reference.js';
import { runProgram } from '../../sys/exec.js';
import { directoryTar } from '../../store/snapshots/diff-layer.js';
import { applyChanges } from './changes.js';
import type { ImageService } from './image-service.js';
import { decompressSniffed, storeLayerTar } from './layers.js';

export interface ImportOptions {
  /** repository[:tag] to name the image */
  reference?: string;
  changes?: string[];
  message?: string;
  platform?: Platform;
}

/** Import a root file system tarball (plain, gzip) as a new image; returns its ID. */
export async function importImage(service: ImageService, source: AsyncIterable<Uint8Array>, options: ImportOptions = {}): Promise<string> {
  const names = options.reference ? [parseNormalizedReference(options.reference)] : [];
  if (names[0]?.digest !== undefined) throw invalidArgument('INVALID_REFERENCE', `cannot import to a digest reference: ${options.reference}`);
  const config = applyChanges({}, options.changes ?? []);
  const layer = await storeLayerTar(service.content, service.tmpDir, decompressSniffed(source, 'import tarball'));
  const created = new Date().toISOString();
  const platform = options.platform ?? service.platform;
  const imageConfig: ImageConfig = {
    created, architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}),
    config, rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, created_by: '', comment: options.message ?? 'Imported from tarball' }],
    ...(options.message ? { comment: options.message } : {}),
  };
  const record = await service.createImage({ config: imageConfig, layers: [layer.descriptor], names });
  return record.id;
}

/** `docker export`: the whole (mounted) root file system of a container as a tar stream. */
export function exportRootfs(root: string): AsyncGenerator<Buffer> {
  return directoryTar(root);
}

const FIXED_TIME = 946684800; // 2000-01-01: same busybox binary, same image ID

/** Build a `busybox` image from the host's static busybox (Debian's busybox-static). */
export async function createBusyboxImage(service: ImageService, options: { busybox?: string; reference?: string } = {}): Promise<string> {
  const busybox = options.busybox ?? '/bin/busybox';
  await mkdir(service.tmpDir, { recursive: true });
  const work = await mkdtemp(path.join(service.tmpDir, 'busybox-'));
  try {
    const root = path.join(work, 'rootfs');
    await makeBusyboxTree(root, busybox);
    const config: ContainerConfig = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] };
    const layer = await storeLayerTar(service.content, service.tmpDir, directoryTar(root));
    const created = new Date(FIXED_TIME * 1000).toISOString();
    const imageConfig: ImageConfig = {
      created, architecture: service.platform.architecture, os: 'linux', config,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: `berth: busybox from the host (${busybox})` }],
    };
    const record = await service.createImage({ config: imageConfig, layers: [layer.descriptor],
      names: [parseNormalizedReference(options.reference ?? 'busybox:latest')] });
    return record.id;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function makeBusyboxTree(root: string, busybox: string): Promise<void> {
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var', 'var/spool/mail', 'var/www']) {
    await mkdir(path.join(root, dir), { recursive: true, mode: 0o755 });
  }
  await chmod(path.join(root, 'tmp'), 0o1777);
  await chmod(path.join(root, 'root'), 0o700);
  await copyFile(busybox, path.join(root, 'bin/busybox'));
  await chmod(path.join(root, 'bin/busybox'), 0o755);
  const { stdout } = await runProgram(busybox, ['--list-full']);
  for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'bin/busybox' && !a.includes('..'))) {
    const link = path.join(root, applet);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(path.relative(path.dirname(link), path.join(root, 'bin/busybox')), link).catch(() => undefined);
  }
  await writeFile(path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  await writeFile(path.join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n');
  await writeFile(path.join(root, 'etc/hostname'), '');
  await writeFile(path.join(root, 'etc/hosts'), '');
  await writeFile(path.join(root, 'etc/resolv.conf'), '');
  await fixTimes(root);
}

async function fixTimes(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await fixTimes(full);
    await lutimes(full, FIXED_TIME, FIXED_TIME);
  }
  await lutimes(dir, FIXED_TIME, FIXED_TIME);
}
