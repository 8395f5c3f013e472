// Running a bundle to completion under the built-in runtime (in process) or runc, with the
// output collected, and the leak checks every runtime test ends with.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createBuiltinRuntime } from '../../src/runtime/factory.js';
import type { BuiltinRuntime } from '../../src/runtime/builtin-runtime.js';
import type { ProcessHandle, ExitStatus } from '../../src/runtime/runtime.js';
import type { Bundle } from './bundle.js';

export interface RunOutput extends ExitStatus {
  stdout: string;
  stderr: string;
}

export interface TestRuntime {
  root: string;
  runtime: BuiltinRuntime;
  /** create + start + wait + delete under berth, in process */
  run(id: string, bundle: Bundle): Promise<RunOutput>;
  /** the same under runc, through its command line */
  runWithRunc(id: string, bundle: Bundle): RunOutput;
  /** assert nothing of `id` is left: state dir, cgroup, mounts, processes */
  assertNoLeaks(id: string): void;
  cleanup(): Promise<void>;
}

export async function collect(handle: ProcessHandle): Promise<{ stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  if (handle.io.kind === 'pipes') {
    handle.io.stdin.end();
    handle.io.stdout.on('data', (c: Buffer) => out.push(c));
    handle.io.stderr.on('data', (c: Buffer) => err.push(c));
    await Promise.all([new Promise((r) => handle.io.kind === 'pipes' && handle.io.stdout.on('close', r)),
      new Promise((r) => handle.io.kind === 'pipes' && handle.io.stderr.on('close', r))]);
  } else if (handle.io.kind === 'terminal') {
    handle.io.terminal.on('data', (c: Buffer) => out.push(c));
    await handle.exit;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export async function makeTestRuntime(token: string): Promise<TestRuntime> {
  const root = await mkdtemp(path.join(os.tmpdir(), `berth-rtroot-${token}-`));
  const runcRoot = path.join(root, 'runc');
  const runtime = createBuiltinRuntime({ root: path.join(root, 'berth') });
  return {
    root,
    runtime,
    async run(id, bundle) {
      const handle = await runtime.create(id, bundle.dir);
      const output = collect(handle);
      await runtime.start(id);
      const status = await handle.exit;
      const { stdout, stderr } = await output;
      await runtime.delete(id);
      return { ...status, stdout, stderr };
    },
    runWithRunc(id, bundle) {
      const result = spawnSync('runc', ['--root', runcRoot, 'run', '--bundle', bundle.dir, id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
      const signal = result.status !== null && result.status > 128 ? result.status - 128 : 0;
      return { stdout: result.stdout, stderr: result.stderr, exitCode: result.status ?? 128, signal: signal ? osSignalName(signal) : null };
    },
    assertNoLeaks(id) {
      assert.ok(!existsSync(path.join(root, 'berth', id)), `state dir of ${id} left behind`);
      const cgroupDirs = readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c, 'berth', id)).filter((d) => existsSync(d));
      assert.deepEqual(cgroupDirs, [], `cgroups of ${id} left behind`);
      const mounts = execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(id));
      assert.deepEqual(mounts, [], `mounts of ${id} left behind`);
      assert.deepEqual(processesInCgroupOf(id), [], `processes of ${id} left behind`);
    },
    async cleanup() {
      // a failed test may have left containers: kill and delete them before removing the root
      for (const state of await runtime.list().catch(() => [])) await runtime.delete(state.id, { force: true }).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** pids whose cgroup path names the container (its cgroup is /berth/<id>) */
function processesInCgroupOf(id: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`/${id}`)) pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

function osSignalName(signal: number): NodeJS.Signals | null {
  const found = Object.entries(os.constants.signals).find(([, v]) => v === signal);
  return found ? (found[0] as NodeJS.Signals) : null;
}
