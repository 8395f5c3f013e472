// Warm helpers (runtime/helper-pool.ts): a long-lived runtime keeps berth-helper spawned
// ahead of the next create; it may also have made that container's network namespace.
// A container started by one is like any other: its own new network namespace (or the
// host's, or one owned by its user namespace, as the spec says); a warm helper that died
// is replaced; close() leaves no process behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lchown, readdir } from 'node:fs/promises';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { createBuiltinRuntime } from '../../src/runtime/factory.js';
import type { BuiltinRuntime } from '../../src/runtime/builtin-runtime.js';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken, type Bundle } from './bundle.js';
import { collect } from './harness.js';

const token = uniqueToken();
const rootPromise = mkdtemp(path.join(os.tmpdir(), `berth-rtwarm-${token}-`));
const runtimes: BuiltinRuntime[] = [];
after(async () => {
  for (const runtime of runtimes) {
    for (const state of await runtime.list().catch(() => [])) await runtime.delete(state.id, { force: true }).catch(() => undefined);
    runtime.close();
  }
  await rm(await rootPromise, { recursive: true, force: true });
  await removeTemplate();
});

async function pooledRuntime(name: string): Promise<BuiltinRuntime> {
  const runtime = createBuiltinRuntime({ root: path.join(await rootPromise, name), sealedHelper: true });
  runtimes.push(runtime);
  return runtime;
}

function stateOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return 'gone';
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** our children that are berth-helpers with no child of their own: warm helpers waiting for a plan */
function waitingHelpers(): number[] {
  const pids = readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  return pids.filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/exe`).includes('berth-helper') && readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() === '';
    } catch {
      return false; // gone meanwhile
    }
  });
}

async function warmHelper(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const [pid] = waitingHelpers();
    if (pid !== undefined) return pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no warm helper appeared within 2 s');
}

/** create+start+wait+delete; `shim` is the container's parent (the helper that ran it) */
async function run(runtime: BuiltinRuntime, id: string, bundle: Bundle): Promise<{ exitCode: number; stdout: string; stderr: string; shim: number }> {
  const handle = await runtime.create(id, bundle.dir, { stdio: 'pipe' });
  const shim = parentOf(handle.pid);
  const output = collect(handle);
  await runtime.start(id);
  const status = await handle.exit;
  const { stdout, stderr } = await output;
  await runtime.delete(id);
  return { exitCode: status.exitCode, stdout, stderr, shim };
}

const hostNetns = readlinkSync('/proc/self/ns/net');
const netnsAndLinks = ['/bin/sh', '-c', 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'];

test('a warm helper runs the next container, in a network namespace of its own with only lo', { skip: requires('root') }, async () => {
  const runtime = await pooledRuntime('fresh');
  const bundle = await makeBundle(token, netnsAndLinks);
  const first = await run(runtime, `berth-warm-first-${token}`, bundle);
  assert.equal(first.exitCode, 0, first.stderr);
  const warm = await warmHelper();
  const second = await run(runtime, `berth-warm-second-${token}`, bundle);
  assert.equal(second.exitCode, 0, second.stderr);
  assert.equal(second.shim, warm, 'the container was started by the warm helper');
  const [firstNetns, ...firstLinks] = first.stdout.trim().split('\n');
  const [secondNetns, ...secondLinks] = second.stdout.trim().split('\n');
  assert.match(secondNetns ?? '', /^net:\[\d+\]$/);
  assert.notEqual(secondNetns, hostNetns);
  assert.notEqual(secondNetns, firstNetns);
  assert.deepEqual(firstLinks, ['lo']);
  assert.deepEqual(secondLinks, ['lo']);
  runtime.close();
  await bundle.remove();
});

test('a warm helper with a spare network namespace runs a container without one in the host\'s', { skip: requires('root') }, async () => {
  const runtime = await pooledRuntime('host');
  const withNetns = await makeBundle(token, ['/bin/true']);
  assert.equal((await run(runtime, `berth-warm-netns-${token}`, withNetns)).exitCode, 0);
  const warm = await warmHelper(); // made after a create that wanted a new network namespace: it has one ready
  const hostNetwork = await makeBundle(token, ['/bin/readlink', '/proc/self/ns/net'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'network');
  });
  const out = await run(runtime, `berth-warm-host-${token}`, hostNetwork);
  assert.equal(out.exitCode, 0, out.stderr);
  assert.equal(out.shim, warm);
  assert.equal(out.stdout.trim(), hostNetns);
  await withNetns.remove();
  runtime.close();
  await hostNetwork.remove();
});

test('under a new user namespace the container\'s network namespace is made by the clone (its root administers it)', { skip: requires('root') }, async () => {
  const runtime = await pooledRuntime('userns');
  const plain = await makeBundle(token, ['/bin/true']);
  assert.equal((await run(runtime, `berth-warm-plain-${token}`, plain)).exitCode, 0);
  const warm = await warmHelper(); // has a spare network namespace, owned by the host's user namespace
  const caps = ['CAP_NET_ADMIN'];
  const userns = await makeBundle(token, ['/bin/sh', '-c', 'ip link set lo up && echo up'], (s) => {
    s.root!.readonly = false;
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    s.mounts = s.mounts!.filter((m) => m.destination !== '/sys');
    const c = s.process!.capabilities!;
    s.process!.capabilities = { bounding: [...c.bounding!, ...caps], effective: [...c.effective!, ...caps], permitted: [...c.permitted!, ...caps] };
  });
  await chownTree(path.join(userns.dir, 'rootfs'), 200000);
  await chmod(userns.dir, 0o755);
  const out = await run(runtime, `berth-warm-userns-${token}`, userns);
  assert.equal(out.shim, warm);
  assert.equal(out.exitCode, 0, out.stderr);
  assert.equal(out.stdout.trim(), 'up');
  await plain.remove();
  runtime.close();
  await userns.remove();
});

test('a warm helper killed while it waits is replaced by a fresh spawn; close() leaves no helper', { skip: requires('root') }, async () => {
  const runtime = await pooledRuntime('killed');
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'exit 7']);
  assert.equal((await run(runtime, `berth-warm-k1-${token}`, bundle)).exitCode, 7);
  const warm = await warmHelper();
  process.kill(warm, 'SIGKILL');
  // dead (a zombie, or reaped already) before the create: one dying during it fails it, as a cold helper would
  for (let i = 0; i < 200 && !/^Z|gone/.test(stateOf(warm)); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  const out = await run(runtime, `berth-warm-k2-${token}`, bundle);
  assert.equal(out.exitCode, 7, out.stderr);
  assert.notEqual(out.shim, warm);
  const next = await warmHelper();
  runtime.close();
  assert.ok(!waitingHelpers().includes(next));
  assert.throws(() => readFileSync(`/proc/${next}/stat`), /ENOENT/, 'the closed helper is reaped, not a zombie');
  await bundle.remove();
});

async function chownTree(dir: string, id: number): Promise<void> {
  await lchown(dir, id, id);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, id);
    else await lchown(p, id, id);
  }
}
