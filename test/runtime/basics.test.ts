// The lifecycle from inside: pid 1 in a new pid namespace, hostname, exit codes and
// signals, the create/start split, kill and delete, list; nothing left behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { collect, makeTestRuntime } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });

test('init is pid 1 in its own pid namespace and sees the configured hostname', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-pid-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'echo $$; probe hostname; probe ns pid'], (s) => { s.hostname = `berth-${token}`; });
  const parentsBefore = defaultParentDirs();
  const out = await rt.run(id, bundle);
  const [pid, hostname, pidNs] = out.stdout.trim().split('\n');
  assert.equal(pid, '1');
  assert.equal(hostname, `berth-${token}`);
  assert.match(pidNs ?? '', /^pid:\[\d+\]$/);
  assert.notEqual(pidNs, readlinkSync('/proc/self/ns/pid'));
  rt.assertNoLeaks(id);
  // the spec names no cgroupsPath: the parent the runtime made for it goes with its last container
  assert.deepEqual(defaultParentDirs().filter((dir) => !parentsBefore.includes(dir)), [], 'the runtime\'s default cgroup parent left behind');
  await bundle.remove();
});

/** the runtime's default cgroup parent (/berth) in each v1 hierarchy or the v2 root */
function defaultParentDirs(): string[] {
  return readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c, 'berth')).filter((d) => existsSync(d));
}

test('exit codes and signals come back as the process ended', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const bundle = await makeBundle(token, ['/bin/probe', 'exit', '42']);
  const code = await rt.run(`berth-exit-${token}`, bundle);
  assert.equal(code.exitCode, 42);
  assert.equal(code.signal, null);
  // init of a pid namespace ignores signals it has no handler for, except SIGKILL
  bundle.spec.process!.args = ['/bin/probe', 'sleep', '60'];
  await bundle.write();
  const handle = await rt.runtime.create(`berth-sig-${token}`, bundle.dir, { stdio: 'null' });
  await rt.runtime.start(`berth-sig-${token}`);
  await rt.runtime.kill(`berth-sig-${token}`, 'KILL');
  assert.deepEqual(await handle.exit, { exitCode: 137, signal: 'SIGKILL' });
  await rt.runtime.delete(`berth-sig-${token}`);
  rt.assertNoLeaks(`berth-exit-${token}`);
  rt.assertNoLeaks(`berth-sig-${token}`);
  await bundle.remove();
});

test('after create the process exists but the program has not started; start runs it', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-split-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'echo started > /out/marker; exec sleep 30'], (s) => {
    s.mounts!.push({ destination: '/out', type: 'bind', source: 'out', options: ['rbind', 'rw'] });
  });
  await mkdir(path.join(bundle.dir, 'out'));
  const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
  const created = await rt.runtime.state(id);
  assert.equal(created.status, 'created');
  assert.equal(created.pid, handle.pid);
  assert.ok(existsSync(`/proc/${handle.pid}`), 'the container process exists after create');
  assert.ok(!existsSync(path.join(bundle.dir, 'out/marker')), 'the program must not run before start');
  assert.deepEqual((await rt.runtime.list()).map((s) => s.id), [id]);
  await rt.runtime.start(id);
  // the shell creates the file before it writes the line: wait for the line, not the file
  const marker = (): string => (existsSync(path.join(bundle.dir, 'out/marker')) ? readFileSync(path.join(bundle.dir, 'out/marker'), 'utf8') : '');
  for (let i = 0; i < 200 && marker() !== 'started\n'; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(marker(), 'started\n');
  assert.equal((await rt.runtime.state(id)).status, 'running');
  await assert.rejects(rt.runtime.delete(id), /running/);
  await rt.runtime.kill(id, 9);
  const status = await handle.exit;
  assert.equal(status.signal, 'SIGKILL');
  assert.equal((await rt.runtime.state(id)).status, 'stopped');
  await rt.runtime.delete(id);
  await assert.rejects(rt.runtime.state(id), /does not exist/);
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('delete --force kills a created container and releases everything', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-force-${token}`;
  const bundle = await makeBundle(token, ['/bin/probe', 'sleep', '60']);
  const handle = await rt.runtime.create(id, bundle.dir);
  const output = collect(handle);
  await rt.runtime.delete(id, { force: true });
  assert.equal((await handle.exit).signal, 'SIGKILL');
  await output;
  assert.ok(!existsSync(`/proc/${handle.pid}`));
  rt.assertNoLeaks(id);
  await bundle.remove();
});
