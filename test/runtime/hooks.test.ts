// OCI hooks run at the moments and in the namespaces config.md gives them: createRuntime in
// the runtime's namespaces once the container's namespaces exist and its mounts are made but
// before pivot_root; createContainer in the container's namespaces at that same point;
// startContainer in the container (its path resolved there) just before the program runs;
// poststart and poststop after; all in order. Failing hooks abort create/start cleanly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken, type Bundle } from './bundle.js';
import { makeTestRuntime } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });

/** host-side hook: records its name, its own namespaces, the container's, and whether the container's /proc is mounted un-pivoted */
const HOST_HOOK = `#!/bin/sh
pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')
echo "$1 self_mnt=$(readlink /proc/self/ns/mnt) self_uts=$(readlink /proc/self/ns/uts) ctr_mnt=$(readlink /proc/$pid/ns/mnt) ctr_uts=$(readlink /proc/$pid/ns/uts) unpivoted_proc=$(grep -c " $ROOTFS/proc " /proc/$pid/mountinfo) self_proc=$(grep -c " $ROOTFS/proc " /proc/self/mountinfo)" >> "$OUT/hooks.log"
`;

/** startContainer hook, run from the container's own rootfs: leaves a file the program then reads */
const START_HOOK = `#!/bin/sh
echo "startContainer self_mnt=$(readlink /proc/self/ns/mnt)" >> /out/hooks.log
echo "set by startContainer" > /out/from-hook
`;

async function hookBundle(args: string[], failing?: 'createContainer' | 'startContainer'): Promise<Bundle> {
  const bundle = await makeBundle(token, args, (s) => {
    s.mounts!.push({ destination: '/out', type: 'bind', source: 'out', options: ['rbind', 'rw'] });
  });
  const out = path.join(bundle.dir, 'out');
  await mkdir(out);
  const hostHook = path.join(bundle.dir, 'host-hook.sh');
  await writeFile(hostHook, HOST_HOOK);
  await chmod(hostHook, 0o755);
  await writeFile(path.join(bundle.dir, 'rootfs', 'start-hook.sh'), START_HOOK);
  await chmod(path.join(bundle.dir, 'rootfs', 'start-hook.sh'), 0o755);
  const env = [`ROOTFS=${path.join(bundle.dir, 'rootfs')}`, `OUT=${out}`];
  const host = (name: string) => ({ path: hostHook, args: ['host-hook', name], env });
  bundle.spec.hooks = {
    prestart: [host('prestart')],
    createRuntime: [host('createRuntime')],
    createContainer: [failing === 'createContainer' ? { path: '/bin/false' } : host('createContainer')],
    startContainer: [failing === 'startContainer' ? { path: '/bin/false' } : { path: '/start-hook.sh' }],
    poststart: [host('poststart')],
    poststop: [host('poststop')],
  };
  await bundle.write();
  return bundle;
}

function parseLog(text: string): Array<{ name: string; fields: Record<string, string> }> {
  return text.trim().split('\n').map((line) => {
    const [name = '', ...rest] = line.split(' ');
    return { name, fields: Object.fromEntries(rest.map((kv) => kv.split('=') as [string, string])) };
  });
}

test('hooks run in order, each at its moment and in its namespaces', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-hooks-${token}`;
  const bundle = await hookBundle(['/bin/sh', '-c', 'cat /out/from-hook; probe ns mnt']);
  const out = await rt.run(id, bundle);
  assert.equal(out.exitCode, 0, out.stderr);
  const [fromHook, programMnt] = out.stdout.trim().split('\n');
  assert.equal(fromHook, 'set by startContainer', 'startContainer ran before the program');
  const log = parseLog(await readFile(path.join(bundle.dir, 'out', 'hooks.log'), 'utf8'));
  assert.deepEqual(log.map((e) => e.name), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  const [prestart, createRuntime, createContainer, startContainer] = log;
  const hostMnt = readlinkSync('/proc/self/ns/mnt');
  const hostUts = readlinkSync('/proc/self/ns/uts');
  for (const hook of [prestart, createRuntime]) {
    assert.equal(hook?.fields['self_mnt'], hostMnt, `${hook?.name} runs in the runtime's mount namespace`);
    assert.notEqual(hook?.fields['ctr_mnt'], hostMnt, `${hook?.name}: the container's mount namespace exists`);
    assert.equal(hook?.fields['unpivoted_proc'], '1', `${hook?.name}: mounts made, pivot_root not yet`);
  }
  assert.equal(createContainer?.fields['self_mnt'], createContainer?.fields['ctr_mnt'], 'createContainer runs in the container mount namespace');
  assert.equal(createContainer?.fields['self_uts'], createContainer?.fields['ctr_uts'], 'createContainer runs in the container uts namespace');
  assert.notEqual(createContainer?.fields['self_uts'], hostUts);
  assert.equal(createContainer?.fields['self_proc'], '1', 'createContainer sees the mounts, before pivot_root');
  assert.equal(startContainer?.fields['self_mnt'], programMnt, 'startContainer runs in the container mount namespace');
  rt.assertNoLeaks(id);
  await bundle.remove();
});

for (const failing of ['createContainer', 'startContainer'] as const) {
  test(`a failing ${failing} hook is an error naming it, and nothing is left`, { skip: requires('root') }, async () => {
    const rt = await rtPromise;
    const id = `berth-hookfail-${failing.toLowerCase()}-${token}`;
    const bundle = await hookBundle(['/bin/true'], failing);
    if (failing === 'createContainer') {
      await assert.rejects(rt.runtime.create(id, bundle.dir, { stdio: 'null' }), /hooks\.createContainer\[0\] \/bin\/false exited with 1/);
    } else {
      await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
      await assert.rejects(rt.runtime.start(id), /hooks\.startContainer\[0\] \/bin\/false exited with 1/);
      await rt.runtime.delete(id, { force: true });
    }
    rt.assertNoLeaks(id);
    await bundle.remove();
  });
}

/** a host-side hook that appends its name and the state it got on stdin to out/states.log */
const STATE_HOOK = `#!/bin/sh
printf '%s %s\\n' "$1" "$(cat)" >> "$OUT/states.log"
`;

async function stateHookBundle(args: string[], hooks: (hook: (name: string) => { path: string; args: string[]; env: string[] }) => Bundle['spec']['hooks']): Promise<Bundle> {
  const bundle = await makeBundle(token, args);
  const out = path.join(bundle.dir, 'out');
  await mkdir(out);
  const script = path.join(bundle.dir, 'state-hook.sh');
  await writeFile(script, STATE_HOOK);
  await chmod(script, 0o755);
  bundle.spec.hooks = hooks((name) => ({ path: script, args: ['state-hook', name], env: [`OUT=${out}`] }));
  await bundle.write();
  return bundle;
}

async function readStates(bundle: Bundle): Promise<Array<{ name: string; status: string; pid?: number; id: string }>> {
  const text = await readFile(path.join(bundle.dir, 'out', 'states.log'), 'utf8').catch(() => '');
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const space = line.indexOf(' ');
    const state = JSON.parse(line.slice(space + 1)) as { status: string; pid?: number; id: string };
    return { name: line.slice(0, space), status: state.status, pid: state.pid, id: state.id };
  });
}

test('hooks get the state of runtime.md: created for the create hooks, running for poststart, stopped for poststop', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-hookstate-${token}`;
  const bundle = await stateHookBundle(['/bin/true'], (hook) => ({
    prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')],
  }));
  const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
  await rt.runtime.start(id);
  await handle.exit;
  await rt.runtime.delete(id);
  const states = await readStates(bundle);
  assert.deepEqual(states.map((s) => `${s.name}:${s.status}`), ['prestart:created', 'createRuntime:created', 'poststart:running', 'poststop:stopped']);
  for (const s of states.slice(0, 3)) assert.equal(s.pid, handle.pid, `${s.name} gets the container's pid`);
  assert.ok(states.every((s) => s.id === id));
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('a failing poststop hook is a warning: delete succeeds and the later poststop hooks still run', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-poststopfail-${token}`;
  const bundle = await stateHookBundle(['/bin/true'], (hook) => ({ poststop: [{ path: '/bin/false' }, hook('poststop-after')] }));
  const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
  await rt.runtime.start(id);
  await handle.exit;
  const warnings: string[] = [];
  await rt.runtime.delete(id, { warn: (message) => { warnings.push(message); } });
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] ?? '', new RegExp(`container ${id}: hooks\\.poststop\\[0\\] /bin/false exited with 1`));
  assert.deepEqual((await readStates(bundle)).map((s) => s.name), ['poststop-after']);
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('a failing poststart hook fails start and stops the container (runtime.md step 9); delete then cleans up', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-poststartfail-${token}`;
  const bundle = await stateHookBundle(['/bin/sleep', '100'], (hook) => ({ poststart: [{ path: '/bin/false' }, hook('poststart-after')], poststop: [hook('poststop')] }));
  const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
  await assert.rejects(rt.runtime.start(id), /hooks\.poststart\[0\] \/bin\/false exited with 1/);
  const status = await handle.exit;
  assert.equal(status.signal, 'SIGKILL', 'the program was stopped');
  assert.equal((await rt.runtime.state(id)).status, 'stopped');
  await rt.runtime.delete(id);
  assert.deepEqual((await readStates(bundle)).map((s) => s.name), ['poststop'], 'the later poststart hooks do not run; poststop does');
  rt.assertNoLeaks(id);
  await bundle.remove();
});
