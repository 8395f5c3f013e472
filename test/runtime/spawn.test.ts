// How the built-in runtime starts berth-helper (posix_spawn, sys/posix-spawn.ts): nothing
// of ours leaks into the container (fds, ignored signals), a helper that cannot run is a
// clear error with nothing left, and every helper is reaped (no zombies).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../../src/errors/berth-error.js';
import { createBuiltinRuntime } from '../../src/runtime/factory.js';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { makeTestRuntime } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });

/** our children and their states, from /proc/self/task/<tid>/children */
function childrenOfThisProcess(): Array<{ pid: number; state: string; name: string }> {
  const pids = readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  return pids.map((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { pid, name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) };
  });
}

test('the container has only fds 0-2 and ignores the signals it does under runc', { skip: requires('root', 'runc') }, async () => {
  const rt = await rtPromise;
  const id = `berth-spawnfds-${token}`;
  // ls lists its own directory fd too: that is the one above 2
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'ls /proc/self/fd; grep SigIgn /proc/self/status']);
  const out = await rt.run(id, bundle);
  assert.equal(out.exitCode, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  const ignored = lines.pop();
  const fds = lines.map(Number).sort((a, b) => a - b);
  assert.deepEqual(fds.slice(0, 3), [0, 1, 2]);
  assert.equal(fds.length, 4, `fds in the container: ${fds.join(' ')}`);
  // busybox sh ignores SIGQUIT itself; nothing more may be ignored than under runc
  const runc = rt.runWithRunc(`${id}-runc`, bundle);
  assert.equal(ignored, runc.stdout.trim().split('\n').pop());
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('a helper that cannot be started is a clear error, and nothing is left', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-spawnfail-${token}`;
  const bundle = await makeBundle(token, ['/bin/true']);
  const missing = path.join(rt.root, 'no-such-berth-helper');
  const saved = process.env['BERTH_HELPER'];
  process.env['BERTH_HELPER'] = missing;
  try {
    await assert.rejects(rt.runtime.create(id, bundle.dir, { stdio: 'null' }), (err: unknown) =>
      err instanceof BerthError && err.code === 'HELPER_NOT_RUNNABLE' && err.message.includes(missing) && err.message.includes('ENOENT'));
  } finally {
    if (saved === undefined) delete process.env['BERTH_HELPER'];
    else process.env['BERTH_HELPER'] = saved;
  }
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('20 runs leave no zombie and no helper behind (plain and sealed helper)', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const sealed = createBuiltinRuntime({ root: path.join(rt.root, 'sealed'), sealedHelper: true });
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'exit 3']);
  const before = new Set(childrenOfThisProcess().map((child) => child.pid)); // e.g. tsx's esbuild
  const newChildren = (): Array<{ pid: number; state: string; name: string }> => childrenOfThisProcess().filter((child) => !before.has(child.pid));
  for (let i = 0; i < 20; i++) {
    const runtime = i % 2 === 0 ? rt.runtime : sealed;
    const id = `berth-spawnreap-${token}-${i}`;
    const handle = await runtime.create(id, bundle.dir, { stdio: i % 4 === 1 ? 'null' : 'pipe' });
    if (handle.io.kind === 'pipes') handle.io.stdin.end();
    await runtime.start(id);
    assert.deepEqual(await handle.exit, { exitCode: 3, signal: null });
    await runtime.delete(id);
    rt.assertNoLeaks(id);
  }
  // the sealed runtime keeps a warm helper for its next create (helper-pool.ts) until closed
  sealed.close();
  // the last shim may still be between its exit message and being reaped
  for (let i = 0; i < 100 && newChildren().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(newChildren(), []);
  await bundle.remove();
});
