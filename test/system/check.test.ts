// `berth system check [--repair]` against real leaks made by hand with this daemon
// instance's names: a blob, an unpacked layer, a container snapshot with its mount, a cgroup
// with a process in it, a veth pair, a bridge, a netns file, an nft rule and chain, a bundle
// dir. check lists each, --repair removes each, and a running container with a published
// port and a volume is not touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { requires } from '../support/requirements.js';
import { dockerOk, useBerthdWithBusybox, type Berthd } from '../api/harness.js';
import { instanceFromDataRoot, instanceNames } from '../../src/network/names.js';
import { FileContentStore, writeBlob } from '../../src/store/content/file-content-store.js';
import { digestOf } from '../../src/oci/digest.js';
import { api, berth } from './support.js';

const run = promisify(execFile);
const skip = requires('root');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

const reportSchema = z.object({ Findings: z.array(z.object({ Kind: z.string(), Resource: z.string(), Repaired: z.boolean().optional() })) });

async function findings(method: 'GET' | 'POST'): Promise<Array<{ Kind: string; Resource: string; Repaired?: boolean | undefined }>> {
  const { status, body } = await api(daemon, method, method === 'GET' ? '/berth/system/check' : '/berth/system/check?repair=1');
  assert.equal(status, 200);
  return reportSchema.parse(body).Findings;
}

async function echo(port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(3000, () => { socket.destroy(); reject(new Error(`no answer on ${port}`)); });
    socket.on('data', (c: Buffer) => { data += c.toString(); socket.end(); });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

interface Leaks {
  blob: string; layerDir: string; snapshotDir: string; mount: string; cgroup: string; sleeper: number;
  veth: string; bridge: string; netns: string; chain: string; bundle: string; table: string;
}

/** Each kind of leak, made for real with this daemon's names. */
async function injectLeaks(): Promise<Leaks> {
  const t = daemon.token;
  const image = path.join(daemon.dataRoot, 'image');
  const blob = await writeBlob(new FileContentStore(path.join(image, 'content')), Buffer.from(`leaked ${t}`), { digest: digestOf(`leaked ${t}`) });
  const layerHex = randomBytes(32).toString('hex');
  const layerDir = path.join(image, 'snapshots', 'overlay', 'layers', layerHex);
  await mkdir(path.join(layerDir, 'fs'), { recursive: true });
  await writeFile(path.join(layerDir, 'fs', 'f'), 'x');
  await writeFile(path.join(layerDir, 'layer.json'), JSON.stringify({ chainId: `sha256:${layerHex}`, diffId: `sha256:${layerHex}`, size: 1, createdAt: 0 }));
  const ghost = randomBytes(32).toString('hex');
  const snapshotDir = path.join(image, 'snapshots', 'overlay', 'active', ghost);
  for (const sub of ['upper', 'work', 'merged']) await mkdir(path.join(snapshotDir, sub), { recursive: true });
  await writeFile(path.join(snapshotDir, 'active.json'), JSON.stringify({ key: ghost, createdAt: 0 }));
  const mount = path.join(snapshotDir, 'merged');
  await run('mount', ['-t', 'tmpfs', `berth-${ghost}`, mount]);
  const cgroup = path.join('/sys/fs/cgroup/pids', daemon.cgroupParent, ghost);
  await mkdir(cgroup);
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  await writeFile(path.join(cgroup, 'cgroup.procs'), String(sleeper.pid));
  const names = instanceNames(instanceFromDataRoot(path.resolve(daemon.dataRoot)));
  const veth = `${names.vethPrefix}lk${t.slice(0, 4)}`;
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${names.vethPrefix}pk${t.slice(0, 4)}`]);
  const bridge = `${names.bridgePrefix}lk${t.slice(0, 4)}`;
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  const netns = path.join(daemon.execRoot, 'netns', ghost);
  await (await open(netns, 'a')).close();
  await run('unshare', [`--net=${netns}`, 'true']);
  const chain = `leak-${t}`;
  await run('nft', ['add', 'chain', 'inet', names.table, chain]);
  await run('nft', ['add', 'rule', 'inet', names.table, 'published-ports', 'tcp', 'dport', '40999', 'dnat', 'ip', 'to', '172.17.0.250:80']);
  const bundle = path.join(daemon.execRoot, 'containers', ghost);
  await mkdir(bundle, { recursive: true });
  await writeFile(path.join(bundle, 'config.json'), '{}');
  return { blob: blob.digest, layerDir, snapshotDir, mount, cgroup, sleeper: sleeper.pid ?? 0, veth, bridge, netns, chain, bundle, table: names.table };
}

async function mounted(target: string): Promise<boolean> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === target);
}

async function linkExists(name: string): Promise<boolean> {
  return await run('ip', ['link', 'show', name]).then(() => true, () => false);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

test('system check lists injected leaks of every kind, --repair removes them and nothing in use', { skip, timeout: 180_000 }, async () => {
  const t = daemon.token;
  const port = 20000 + Math.floor(Math.random() * 20000);
  await dockerOk(daemon, ['run', '-d', '--name', `in-use-${t}`, '-p', `${port}:8080`, '-v', `chk-${t}:/d`, 'busybox', 'sh', '-c',
    'echo kept > /d/m; while true; do nc -l -p 8080 < /d/m; done']);
  await dockerOk(daemon, ['create', '--name', `stopped-${t}`, 'busybox', 'true']);
  assert.deepEqual(await findings('GET'), [], 'a clean daemon has nothing to report');

  const leaks = await injectLeaks();
  const found = await findings('GET');
  const has = (kind: string, resource: string): boolean => found.some((f) => f.Kind === kind && f.Resource.includes(resource));
  assert.ok(has('blob', leaks.blob), 'blob');
  assert.ok(has('layer', path.basename(leaks.layerDir)), 'layer');
  assert.ok(has('snapshot', path.basename(leaks.snapshotDir)), 'snapshot');
  assert.ok(has('mount', leaks.mount), 'mount');
  assert.ok(has('cgroup', leaks.cgroup), 'cgroup');
  assert.ok(has('veth', leaks.veth), 'veth');
  assert.ok(has('bridge', leaks.bridge), 'bridge');
  assert.ok(has('netns', leaks.netns), 'netns');
  assert.ok(has('nft-chain', leaks.chain), 'nft chain');
  assert.ok(found.some((f) => f.Kind === 'nft-rule'), 'nft rule');
  assert.ok(has('state-dir', leaks.bundle), 'bundle dir');
  assert.ok(!found.some((f) => f.Resource.includes(t) && !f.Resource.includes(leaks.chain) && !f.Resource.includes(t.slice(0, 4))),
    'nothing of the running or stopped container is listed');

  const cli = await berth(daemon, ['system', 'check']);
  assert.equal(cli.code, 1, 'check exits 1 while something is left');
  assert.match(cli.stdout, /^KIND\s+RESOURCE\s+RESULT\s+DETAIL\n/);
  assert.match(cli.stdout, new RegExp(`veth\\s+${leaks.veth}\\s+found`));

  const repaired = await berth(daemon, ['system', 'check', '--repair']);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.doesNotMatch(repaired.stdout, /repair failed|\sfound\s/);
  assert.equal(existsSync(path.join(daemon.dataRoot, 'image', 'content', 'blobs', 'sha256', leaks.blob.slice(7))), false);
  assert.equal(existsSync(leaks.layerDir), false);
  assert.equal(await mounted(leaks.mount), false);
  assert.equal(existsSync(leaks.snapshotDir), false);
  assert.equal(existsSync(leaks.cgroup), false);
  assert.equal(alive(leaks.sleeper), false, 'the process in the leaked cgroup was killed');
  assert.equal(await linkExists(leaks.veth), false);
  assert.equal(await linkExists(leaks.bridge), false);
  assert.equal(existsSync(leaks.netns), false);
  assert.equal(existsSync(leaks.bundle), false);
  const table = (await run('nft', ['list', 'table', 'inet', leaks.table])).stdout;
  assert.doesNotMatch(table, /40999|leak-/);
  assert.match(table, new RegExp(`dport ${port} dnat`), 'the running container\'s published port rule stays');

  assert.equal(await dockerOk(daemon, ['inspect', '--format', '{{.State.Status}}', `in-use-${t}`]), 'running');
  assert.match(await echo(port), /kept/);
  assert.equal(await dockerOk(daemon, ['inspect', '--format', '{{.State.Status}}', `stopped-${t}`]), 'created');
  assert.equal(await dockerOk(daemon, ['start', '-a', `stopped-${t}`]), '', 'the stopped container still starts');
  const clean = await berth(daemon, ['system', 'check']);
  assert.equal(clean.code, 0);
  assert.equal(clean.stdout, 'No problems found.\n');
  await dockerOk(daemon, ['rm', '-f', `in-use-${t}`, `stopped-${t}`]);
  await dockerOk(daemon, ['volume', 'rm', `chk-${t}`]);
});
