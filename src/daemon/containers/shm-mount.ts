// A shareable container's /dev/shm lives on the host, as dockerd does it: a tmpfs under the
// container's directory that the container and every --ipc container:X joiner bind-mount
// (a mount inside another container's mount namespace cannot be bind-mounted from outside).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { mount, umount, MNT_DETACH } from '../../sys/fs-native.js';

const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;

export function shmPath(containerDir: string): string {
  return path.join(containerDir, 'shm');
}

async function isMountPoint(dir: string): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === dir);
}

/** Mounts the host-side tmpfs (once) and returns its path. */
export async function mountShareableShm(containerDir: string, sizeBytes: number): Promise<string> {
  const dir = shmPath(containerDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await isMountPoint(dir))) {
    mount('shm', dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${Math.floor(sizeBytes / 1024)}k`);
  }
  return dir;
}

export async function unmountShareableShm(containerDir: string): Promise<void> {
  const dir = shmPath(containerDir);
  while (await isMountPoint(dir)) umount(dir, MNT_DETACH);
}
