// cgroup limits seen from inside (memory limit ending in an OOM kill, pids limit stopping
// forks), pause/resume through the freezer, and exec into a running container.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { collect, makeTestRuntime } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });

test('a memory limit ends in an OOM kill', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-oom-${token}`;
  const bundle = await makeBundle(token, ['/bin/probe', 'alloc', '256'], (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 32 * 1024 * 1024 } };
  });
  const out = await rt.run(id, bundle);
  assert.equal(out.signal, 'SIGKILL', `expected an OOM kill, got ${JSON.stringify(out)}`);
  assert.doesNotMatch(out.stdout, /allocated/);
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('a pids limit stops forks', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-pids-${token}`;
  const bundle = await makeBundle(token, ['/bin/probe', 'fork', '50'], (s) => {
    s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
  });
  const out = await rt.run(id, bundle);
  // init itself counts: 9 children fit under a limit of 10
  assert.equal(out.stdout.trim(), 'forked 9 errno 11 Resource temporarily unavailable');
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('pause freezes every process, resume thaws them; exec runs inside the container', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-pause-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'sleep 60 & exec sleep 60'], (s) => { s.hostname = `exec-${token}`; });
  const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
  await rt.runtime.start(id);
  const exec = await rt.runtime.exec(id, { ...bundle.spec.process!, args: ['/bin/sh', '-c', 'probe hostname; echo $$; probe ns mnt; exit 5'] });
  const execOut = await collect(exec);
  assert.deepEqual(await exec.exit, { exitCode: 5, signal: null });
  const [hostname, pid, mntNs] = execOut.stdout.trim().split('\n');
  assert.equal(hostname, `exec-${token}`);
  assert.ok(Number(pid) > 1, 'exec gets its own pid in the container pid namespace');
  assert.equal(mntNs, readlinkProc(handle.pid, 'mnt'));
  const procs = await rt.runtime.ps(id);
  assert.ok(procs.length >= 2 && procs.some((p) => p.pid === handle.pid), 'ps lists init and its child');
  await rt.runtime.pause(id);
  assert.equal((await rt.runtime.state(id)).status, 'paused');
  for (const p of procs) assert.match(procState(p.pid), /^[DS]|^T/);
  await assert.rejects(rt.runtime.exec(id, { ...bundle.spec.process!, args: ['/bin/true'] }), /paused|running/);
  await rt.runtime.resume(id);
  assert.equal((await rt.runtime.state(id)).status, 'running');
  await rt.runtime.delete(id, { force: true });
  assert.equal((await handle.exit).signal, 'SIGKILL');
  rt.assertNoLeaks(id);
  await bundle.remove();
});

function readlinkProc(pid: number, ns: string): string {
  return readlinkSync(`/proc/${pid}/ns/${ns}`);
}

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
