// kill -9 of berthd with running containers on two user networks and a published port, then a
// restart: bridges, veths, netns files, nft rules and leases match what runs, nothing doubled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, startBerthd, startBerthdWithBusybox, stopBerthd, teardownBerthd, type Berthd } from '../api/harness.js';
import { instanceFromDataRoot, instanceNames } from '../../src/network/names.js';
import { freePort } from './support.js';

interface HostState {
  bridges: number;
  veths: number;
  netns: number;
  /** DNAT rules for the published port */
  portRules: number;
  /** gateway:53 redirects to the embedded DNS servers */
  dnsRules: number;
  tables: number;
}

async function hostState(daemon: Berthd, hostPort: number): Promise<HostState> {
  const names = instanceNames(instanceFromDataRoot(path.resolve(daemon.dataRoot)));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '');
  const table = execFileSync('nft', ['list', 'table', 'inet', names.table], { encoding: 'utf8' });
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() === `table inet ${names.table}`);
  return {
    bridges: links.filter((l) => l.startsWith(names.bridgePrefix)).length,
    veths: links.filter((l) => l.startsWith(names.vethPrefix)).length,
    netns: (await readdir(path.join(daemon.execRoot, 'netns')).catch(() => [])).length,
    portRules: table.split('\n').filter((l) => new RegExp(`dport ${hostPort} dnat`).test(l)).length,
    dnsRules: table.split('\n').filter((l) => /udp dport 53 dnat/.test(l)).length,
    tables: tables.length,
  };
}

async function waitRunning(daemon: Berthd, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const state = await docker(daemon, ['inspect', '-f', '{{.State.Status}}', name]);
    if (state.stdout.trim() === 'running') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not come back`);
}

test('kill -9 of berthd with containers on two networks: after a restart kernel state matches, nothing doubled', { skip: requires('root', 'docker'), timeout: 90_000 }, async () => {
  let daemon = await startBerthdWithBusybox();
  try {
    const [netA, netB] = [`a-${daemon.token}`, `b-${daemon.token}`];
    const base = randomInt(100, 250);
    await dockerOk(daemon, ['network', 'create', '--subnet', `10.${base}.1.0/24`, netA]);
    await dockerOk(daemon, ['network', 'create', '--subnet', `10.${base}.2.0/24`, netB]);
    const hostPort = await freePort();
    await dockerOk(daemon, ['run', '-d', '--name', 'keeper', '--restart', 'always', '--network', netA, '-p', `${hostPort}:80`, 'busybox', 'sleep', '300']);
    await dockerOk(daemon, ['network', 'connect', netB, 'keeper']);
    await dockerOk(daemon, ['run', '-d', '--name', 'gone', '--network', netB, 'busybox', 'sleep', '300']);
    const goneIp = await dockerOk(daemon, ['inspect', '-f', `{{(index .NetworkSettings.Networks "${netB}").IPAddress}}`, 'gone']);
    const before = await hostState(daemon, hostPort);
    assert.deepEqual(before, { bridges: 3, veths: 3, netns: 2, portRules: 1, dnsRules: 2, tables: 1 });

    await stopBerthd(daemon, 'SIGKILL');
    daemon = await startBerthd({ dir: daemon.dir, token: daemon.token });
    await waitRunning(daemon, 'keeper');
    assert.equal(await dockerOk(daemon, ['inspect', '-f', '{{.State.Status}}', 'gone']), 'exited');
    // keeper is back on both networks with its port; gone's veth, netns and lease are released
    assert.deepEqual(await hostState(daemon, hostPort), { bridges: 3, veths: 2, netns: 1, portRules: 1, dnsRules: 2, tables: 1 });
    const keeperNets = JSON.parse(await dockerOk(daemon, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'keeper'])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(keeperNets).sort(), [netA, netB].sort());
    assert.match(await dockerOk(daemon, ['port', 'keeper', '80/tcp']), new RegExp(`:${hostPort}$`));
    const onB = JSON.parse(await dockerOk(daemon, ['network', 'inspect', '-f', '{{json .Containers}}', netB])) as Record<string, { Name: string }>;
    assert.deepEqual(Object.values(onB).map((c) => c.Name), ['keeper']);
    const fresh = await dockerOk(daemon, ['run', '-d', '--name', 'fresh', '--network', netB, 'busybox', 'sleep', '300']);
    assert.equal(await dockerOk(daemon, ['inspect', '-f', `{{(index .NetworkSettings.Networks "${netB}").IPAddress}}`, fresh]), goneIp, 'the dead container\'s lease was freed');
    assert.match(await dockerOk(daemon, ['exec', 'fresh', 'nslookup', 'keeper']), new RegExp(`10\\.${base}\\.2\\.`));
    await dockerOk(daemon, ['rm', '-f', 'keeper', 'gone', 'fresh']);
    await dockerOk(daemon, ['network', 'rm', netA, netB]);
  } finally {
    assert.deepEqual(await teardownBerthd(daemon), []);
  }
});
