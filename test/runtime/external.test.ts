// The Runtime interface over runc: same lifecycle, stdio streams and exit status (the
// helper adopts the container's init as a subreaper, so the exit code is observable).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { ExternalRuntime } from '../../src/runtime/external-runtime.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { collect } from './harness.js';

const token = uniqueToken();
after(async () => { await removeTemplate(); });

test('runc through the Runtime interface: create, state, start, output, exit code, delete', { skip: requires('root', 'runc') }, async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), `berth-runcroot-${token}-`));
  const runtime = new ExternalRuntime({ binary: '/usr/bin/runc', root });
  const id = `berth-ext-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe hostname; exit 7']);
  try {
    const handle = await runtime.create(id, bundle.dir);
    const state = await runtime.state(id);
    assert.equal(state.status, 'created');
    assert.equal(state.pid, handle.pid);
    const output = collect(handle);
    await runtime.start(id);
    assert.deepEqual(await handle.exit, { exitCode: 7, signal: null });
    assert.equal((await output).stdout, 'runc\n');
    assert.equal((await runtime.state(id)).status, 'stopped');
    await runtime.delete(id);
    assert.deepEqual(await runtime.list(), []);
  } finally {
    await runtime.delete(id, { force: true }).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await bundle.remove();
  }
});
