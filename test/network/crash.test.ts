// kill -9 of the process holding the networks service, then a restart: the sandbox of the
// dead container is swept (veth, netns, port rule, lease) and the user network survives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { assertNoLeaks, freePort, token } from './support.js';

const here = fileURLToPath(import.meta.url);
const childScript = path.join(path.dirname(here), `crash-child${path.extname(here)}`);

async function runChildUntilReady(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, childScript, '--berth-crash-child', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => { if (c.toString().includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`crash child exited early (${code}): ${stderr}`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('after kill -9, a restart sweeps the dead sandbox and keeps the network', { skip: requires('root') }, async () => {
  const instance = `k${token()}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-net-${instance}-`));
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const hostPort = await freePort();
  await runChildUntilReady([dataRoot, execRoot, instance, String(hostPort)]);
  // the kill left everything in place
  assert.match(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }), new RegExp(`bv${instance}`));
  assert.equal((await readdir(path.join(execRoot, 'netns'))).length, 1);
  assert.match(execFileSync('nft', ['list', 'table', 'inet', `berth-${instance}`], { encoding: 'utf8' }), new RegExp(`dport ${hostPort}`));

  const service = new NetworksService({ dataRoot, execRoot, instance });
  try {
    await service.start([]);
    assert.doesNotMatch(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }), new RegExp(`bv${instance}`));
    assert.deepEqual(await readdir(path.join(execRoot, 'netns')), []);
    assert.doesNotMatch(execFileSync('nft', ['list', 'table', 'inet', `berth-${instance}`], { encoding: 'utf8' }), new RegExp(`dport ${hostPort}`));
    const network = await service.inspect(`crash-${instance}`);
    assert.deepEqual(network.Containers, {});
    // the lease is free again and the port can be published again
    const info = await service.createSandbox(`c${instance}again`, {
      name: 'again', hostname: 'again', networkMode: `crash-${instance}`,
      portBindings: { '80/tcp': [{ HostIp: '', HostPort: String(hostPort) }] },
    });
    assert.match(info.settings.Networks[`crash-${instance}`]?.IPAddress ?? '', /\.2$/);
    await service.destroySandbox(`c${instance}again`);
    await service.remove(`crash-${instance}`);
  } finally {
    await service.teardown();
    await service.close();
  }
  await assertNoLeaks(instance, execRoot);
  await rm(dir, { recursive: true, force: true });
});
