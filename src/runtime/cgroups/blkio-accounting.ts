// cgroup v1 block I/O accounting. Current kernels count blkio.throttle.io_service_bytes
// only for a device whose queue has throttling active (blk_throtl_activated); on a host
// where nobody set a limit, every container shows 0B of block I/O. A rule with no limit
// ("MAJ:MIN 0") activates the queue without limiting anything.
import { mkdir, readFile, realpath, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupManager } from './manager.js';

/** Linux's dev_t split (glibc's gnu_dev_major/minor) */
export function deviceNumbers(dev: number): { major: number; minor: number } {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { major, minor };
}

/** The whole disk holding `file` as "MAJ:MIN" (a partition's parent; throttle rules name disks). */
export async function diskOf(file: string, sysRoot = '/sys'): Promise<string | undefined> {
  const { major, minor } = deviceNumbers((await stat(file)).dev);
  return await diskOfDevice(major, minor, sysRoot);
}

/** The disk of block device MAJ:MIN through sysfs; undefined when it is no block device. */
export async function diskOfDevice(major: number, minor: number, sysRoot = '/sys'): Promise<string | undefined> {
  const node = path.join(sysRoot, 'dev/block', `${major}:${minor}`);
  const device = await realpath(node).catch(() => undefined);
  if (device === undefined) return undefined; // not a block device (tmpfs, overlay on tmpfs...)
  const isPartition = await stat(path.join(device, 'partition')).then(() => true, () => false);
  const dir = isPartition ? path.dirname(device) : device;
  return (await readFile(path.join(dir, 'dev'), 'utf8')).trim();
}

/**
 * Activate v1 block I/O accounting for the disk under `dataPath`: the rule is written in a
 * short-lived group `<blkio root>/<name>` that is removed again (the queue stays activated;
 * nothing is left behind even when berthd is killed later). Nothing to do on v2 (io.stat
 * always counts). Returns the disk it activated, undefined when there was none.
 */
export async function activateBlkioAccounting(manager: CgroupManager, name: string, dataPath: string): Promise<string | undefined> {
  if (manager.version !== 1) return undefined;
  const dir = (await manager.directoriesOf(`/${name}`)).blkio;
  if (dir === undefined) return undefined;
  const disk = await diskOf(dataPath);
  if (disk === undefined) return undefined;
  await mkdir(dir);
  try {
    await writeFile(path.join(dir, 'blkio.throttle.read_bps_device'), `${disk} 0`);
  } finally {
    await rmdir(dir);
  }
  return disk;
}
