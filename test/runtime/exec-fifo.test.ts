// The exec fifo `start` opens (runtime/exec-fifo.ts): the byte of a writer that opens
// before or after us releases it; a writer that goes without writing, or an init that dies
// without ever opening its end, is reported (false), not waited for forever. And with a
// real container: one killed before its start makes start fail clearly, delete cleans up.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../../src/errors/berth-error.js';
import { releaseExecFifo } from '../../src/runtime/exec-fifo.js';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { makeTestRuntime } from './harness.js';

const token = uniqueToken();
const dirPromise = mkdtemp(path.join(os.tmpdir(), `berth-fifo-${token}-`));
const rtPromise = makeTestRuntime(token);
after(async () => {
  await rm(await dirPromise, { recursive: true, force: true });
  await (await rtPromise).cleanup();
  await removeTemplate();
});

async function fifo(name: string): Promise<string> {
  const file = path.join(await dirPromise, name);
  assert.equal(spawnSync('mkfifo', [file]).status, 0);
  return file;
}

const alwaysAlive = async (): Promise<boolean> => true;

test('a writer already blocked in its open, and one that opens later, release it with their byte', async () => {
  const early = await fifo('early');
  const writer = spawn('sh', ['-c', `printf 0 > ${early}`], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 100)); // blocked in open(O_WRONLY) by now
  assert.equal(await releaseExecFifo(early, alwaysAlive), true);
  await new Promise((resolve) => writer.on('exit', resolve));
  const late = await fifo('late');
  const released = releaseExecFifo(late, alwaysAlive);
  spawn('sh', ['-c', `sleep 0.1; printf 0 > ${late}`], { stdio: 'ignore' });
  assert.equal(await released, true);
});

test('an init that wrote its byte and is gone before the liveness poll sees the byte: released, not dead', async () => {
  for (let i = 0; i < 5; i++) {
    const quick = await fifo(`quick-${i}`);
    spawn('sh', ['-c', `printf 0 > ${quick}`], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // blocked in its open by now
    // polled at once, and already "dead": the byte in the pipe decides
    assert.equal(await releaseExecFifo(quick, async () => false, 0), true);
  }
});

test('a writer that closes without writing is reported, as is one that never opens and is gone', async () => {
  const silent = await fifo('silent');
  const released = releaseExecFifo(silent, alwaysAlive);
  spawn('sh', ['-c', `: > ${silent}`], { stdio: 'ignore' });
  assert.equal(await released, false);
  const never = await fifo('never');
  const started = performance.now();
  let asked = 0;
  assert.equal(await releaseExecFifo(never, async () => ++asked < 3), false);
  assert.ok(asked === 3 && performance.now() - started < 2000);
});

test('a container killed before its start: start fails naming it, delete leaves nothing', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-fifokill-${token}`;
  const bundle = await makeBundle(token, ['/bin/true']);
  const handle = await rt.runtime.create(id, bundle.dir, { stdio: 'null' });
  process.kill(handle.pid, 'SIGKILL');
  await assert.rejects(rt.runtime.start(id), (err: unknown) =>
    err instanceof BerthError && err.code === 'CONTAINER_NOT_CREATED' && err.message.includes(id));
  assert.equal((await handle.exit).signal, 'SIGKILL');
  await rt.runtime.delete(id);
  rt.assertNoLeaks(id);
  await bundle.remove();
});
