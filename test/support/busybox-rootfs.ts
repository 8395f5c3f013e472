// A minimal root filesystem for tests: Debian's static busybox with its applet links,
// /etc/passwd and /etc/group, and the static berth probe. Built once per run and copied.
import { cp, mkdir, symlink, writeFile, copyFile, chmod, access } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUSYBOX = '/bin/busybox';
const here = path.dirname(fileURLToPath(import.meta.url));
/** repository root, from dist/test/support or test/support */
export const REPO_ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
export const PROBE = path.join(REPO_ROOT, 'native/build/berth-probe');

/** Create a busybox rootfs at `dir` (which must not exist or be empty). */
export async function makeBusyboxRootfs(dir: string, options: { probe?: boolean } = {}): Promise<string> {
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var']) {
    await mkdir(path.join(dir, sub), { recursive: true });
  }
  await chmod(path.join(dir, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, path.join(dir, 'bin/busybox'));
  await chmod(path.join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'bin/busybox') continue;
    const link = path.join(dir, applet);
    const target = path.relative(path.dirname(link), path.join(dir, 'bin/busybox'));
    await symlink(target, link).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  await writeFile(path.join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  await writeFile(path.join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\n');
  if (options.probe !== false) {
    await access(PROBE).catch(() => { throw new Error(`test probe missing at ${PROBE}: run npm run build`); });
    await copyFile(PROBE, path.join(dir, 'bin/probe'));
    await chmod(path.join(dir, 'bin/probe'), 0o755);
  }
  return dir;
}

/** Copy a prepared rootfs (faster than rebuilding applet links each time). */
export async function copyRootfs(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, verbatimSymlinks: true });
}
