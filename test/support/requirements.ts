// What an integration test needs from the machine. Tests pass the result as `skip`, so a
// run without root says why; CI runs as root, so there they always run.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const isRoot = process.getuid?.() === 0;

/** `skip` value for node:test: false when the requirement holds, else the reason. */
export function requires(...needs: Array<'root' | 'runc' | 'crun' | 'overlay' | 'registry' | 'docker'>): string | false {
  for (const need of needs) {
    if (need === 'root' && !isRoot) return 'requires root';
    if ((need === 'runc' || need === 'crun') && !onPath(need)) return `requires ${need} on PATH`;
    if (need === 'registry' && !existsSync('/usr/bin/docker-registry')) return 'requires docker-registry (Debian package)';
    if (need === 'docker' && !onPath('docker')) return 'requires the docker CLI';
    if (need === 'overlay' && !hasOverlay()) return 'requires overlayfs';
  }
  return false;
}

function onPath(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasOverlay(): boolean {
  try {
    return execFileSync('cat', ['/proc/filesystems'], { encoding: 'utf8' }).includes('overlay');
  } catch {
    return false;
  }
}
