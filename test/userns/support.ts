// A private berthd for user namespace tests: a test user made here (useradd --system, no
// entries of its own in /etc/subuid), private subuid/subgid files with a range for it,
// and berthd started with --userns-remap=<that user> pointed at those files.
import { spawn, execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes, randomInt } from 'node:crypto';
import { REPO_ROOT } from '../support/busybox-rootfs.js';
import type { Berthd } from '../api/harness.js';
import { berthCommand } from '../cli/support/harness.js';

const run = promisify(execFile);

export interface RemapSetup {
  token: string;
  dir: string;
  user: string;
  /** first host id of the test user's range; it holds `blocks` containers of 65536 */
  base: number;
  blocks: number;
  subuid: string;
  subgid: string;
}

/** The test user and its private ranges (ids far above any real /etc/subuid entry). */
export async function makeRemapSetup(blocks = 4): Promise<RemapSetup> {
  const token = randomBytes(3).toString('hex');
  // others search the dir (the containers' roots live below it), nobody lists it
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-userns-${token}-`));
  await chmod(dir, 0o711);
  const user = `berthk${token}`;
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', user]);
  const base = 2_000_000_000 + randomInt(0, 2048) * 65536 * 8;
  const subuid = path.join(dir, 'subuid');
  const subgid = path.join(dir, 'subgid');
  await writeFile(subuid, `otheruser:100000:65536\n${user}:${base}:${65536 * blocks}\n`);
  await writeFile(subgid, `${user}:${base}:${65536 * blocks}\n`);
  return { token, dir, user, base, blocks, subuid, subgid };
}

export async function removeRemapSetup(setup: RemapSetup): Promise<void> {
  await run('userdel', [setup.user]).catch(() => undefined);
  await rm(setup.dir, { recursive: true, force: true });
}

function berthdArgs(): string[] {
  const fromDist = import.meta.url.includes('/dist/');
  const bundle = path.join(REPO_ROOT, 'dist/berthd/launch.cjs');
  if (fromDist) return [existsSync(bundle) ? bundle : path.join(REPO_ROOT, 'dist/src/berthd/main.js')];
  return ['--import', 'tsx', path.join(REPO_ROOT, 'src/berthd/main.ts')];
}

/** berthd in setup.dir with extra flags; rejects with its log when it exits during startup. */
export async function startRemapBerthd(setup: RemapSetup, extra: readonly string[]): Promise<Berthd> {
  const { dir, token } = setup;
  const socket = path.join(dir, 'berth.sock');
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const cgroupParent = `/berth-test-${token}`;
  await writeFile(path.join(dir, 'none.json'), '{}\n');
  const child = spawn(process.execPath, [...berthdArgs(), '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`,
    '--cgroup-parent', cgroupParent, '--config-file', path.join(dir, 'none.json'), '--pidfile', path.join(dir, 'berthd.pid'),
    '--subuid-file', setup.subuid, '--subgid-file', setup.subgid, ...extra], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  child.stderr?.on('data', (c: Buffer) => log.push(c.toString()));
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'docker-config') };
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`berthd exited at startup:\n${log.join('')}`);
    if (existsSync(socket) && await run('docker', ['version', '--format', '{{.Server.Version}}'], { env }).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { dir, token, socket, dataRoot, execRoot, cgroupParent, env, process: child, log: async () => log.join('') };
}

/** berthd that must refuse to start: its exit code and log. */
export async function failedStart(setup: RemapSetup, extra: readonly string[]): Promise<string> {
  try {
    const daemon = await startRemapBerthd(setup, extra);
    daemon.process.kill('SIGTERM');
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The berth CLI against the daemon (it passes every --userns mode; the docker CLI only host). */
export async function berth(daemon: Berthd, args: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const [file, ...pre] = berthCommand() as [string, ...string[]];
  return await run(file, [...pre, ...args], { env: { ...daemon.env, BERTH_HOST: `unix://${daemon.socket}` }, cwd: REPO_ROOT })
    .then((r) => ({ stdout: r.stdout, stderr: r.stderr, code: 0 }),
      (err: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 }));
}
