// kill -9 of a pulling process: the store it leaves must still load, and the next pull
// continues the half-downloaded layer with a Range request instead of starting over.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { requires } from '../support/requirements.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { formatReference, parseNormalizedReference } from '../../src/oci/reference.js';
import { startRegistry, type RunningRegistry } from './support/registry-server.js';
import { startCuttingProxy, type CuttingProxy } from './support/cutting-proxy.js';
import { buildImage, NameTable } from './support/image-fixtures.js';

const skip = requires('registry');
const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, 'support', `pull-child${path.extname(fileURLToPath(import.meta.url))}`);

let work: string;
let registry: RunningRegistry;
let proxy: CuttingProxy;

before(async () => {
  if (skip) return;
  work = await mkdtemp(path.join(os.tmpdir(), 'berth-killed-pull-'));
  registry = await startRegistry();
  proxy = await startCuttingProxy(registry.port, { noCut: true, bytesPerSecond: 4 << 20 });
});
after(async () => {
  if (skip) return;
  await proxy.stop();
  await registry.stop();
  await rm(work, { recursive: true, force: true });
});

async function ingestBytes(root: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(path.join(root, 'ingest')).catch(() => [])) {
    total += (await stat(path.join(root, 'ingest', name, 'data')).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

test('a pull killed with SIGKILL mid-layer is finished by the next pull with Range', { skip, timeout: 120_000 }, async () => {
  const source = new FileContentStore(path.join(work, 'source'));
  const image = await buildImage(source, [{ files: { 'big.bin': randomBytes(24 << 20) } }, { files: { 'etc/small': 'small\n' } }]);
  const names = new NameTable();
  const direct = `${registry.host}/berth/killed:v1`;
  names.names.set(formatReference(parseNormalizedReference(direct)), image.manifest);
  const client = new RegistryClient();
  try {
    await pushImage(client, names.pushStore(source), direct);
    const root = path.join(work, 'target');
    const name = `${proxy.host}/berth/killed:v1`;
    // tsx passes its loader in execArgv; compiled runs have none to pass
    const loaderArgs = process.execArgv.filter((a, i, all) => a.startsWith('--import') || a.startsWith('--require') || a.startsWith('--loader')
      || ['--import', '--require', '--loader'].includes(all[i - 1] ?? ''));
    const child = spawn(process.execPath, [...loaderArgs, childScript, name, root], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 600 && (await ingestBytes(root)) < (4 << 20); i++) {
      if (child.exitCode !== null) assert.fail(`the pulling process ended early: ${Buffer.concat(stderr).toString()}`);
      await sleep(20);
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const kept = await ingestBytes(root);
    assert.ok(kept >= 4 << 20, `the killed pull left ${kept} bytes of the big layer`);

    proxy.setRate(0);
    const store = new FileContentStore(root);
    const pulled = await pullImage(client, new NameTable().pullStore(store), name);
    assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
    const resumedFrom = proxy.ranges.map((r) => Number(/^bytes=(\d+)-$/.exec(r)?.[1] ?? 0));
    assert.ok(resumedFrom.some((offset) => offset > 0 && offset <= kept), `resumed with Range (${proxy.ranges.join(', ')}), kept ${kept}`);
    const stored: string[] = [];
    await store.walk((info) => { stored.push(info.digest); });
    const expected: string[] = [];
    await source.walk((info) => { expected.push(info.digest); });
    assert.deepEqual(stored.sort(), expected.sort());
    assert.equal(await ingestBytes(root), 0);
  } finally {
    client.close();
  }
});
