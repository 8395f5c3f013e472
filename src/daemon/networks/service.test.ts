// The service's plans against a recording fake kernel: no root, no network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NetworksService } from './service.js';
import { BridgeSpec, EndpointPlumbing, NetnsOptions, NetworkKernel } from '../../network/kernel.js';
import { NetworkEvent } from './types.js';

class RecordingKernel implements NetworkKernel {
  calls: string[] = [];
  links = new Set<string>();
  firewall = '';
  routes: string[] = ['172.17.0.0/16'];
  async ensureBridge(spec: BridgeSpec): Promise<void> { this.calls.push(`bridge ${spec.name} ${spec.addresses.join(',')}`); this.links.add(spec.name); }
  async deleteLink(name: string): Promise<void> { this.calls.push(`del ${name}`); this.links.delete(name); }
  async listLinks(prefix: string): Promise<string[]> { return [...this.links].filter((l) => l.startsWith(prefix)); }
  async createNetns(file: string, first?: EndpointPlumbing, options: NetnsOptions = {}): Promise<void> {
    this.calls.push(`netns ${path.basename(file)}`);
    if (options.dnsGateway !== undefined) this.calls.push(`dns ${path.basename(file)} ${options.dnsGateway}`);
    if (first) await this.addEndpoint(first);
  }
  async destroyNetns(file: string): Promise<void> { this.calls.push(`rmnetns ${path.basename(file)}`); }
  async addEndpoint(p: EndpointPlumbing): Promise<void> {
    this.calls.push(`endpoint ${p.ifName} ${p.ipv4 ?? ''} route=${p.defaultRoute}`);
    this.links.add(p.hostIfName);
  }
  async setSandboxDns(file: string, gateway: string | undefined): Promise<void> { this.calls.push(`dns ${path.basename(file)} ${gateway ?? '-'}`); }
  async applyFirewall(_f: string, _t: string, body: string): Promise<void> { this.firewall = body; }
  async deleteFirewall(): Promise<void> { this.firewall = ''; }
  async listFirewallTables(): Promise<Array<{ family: string; name: string }>> { return []; }
  async hostRoutes(): Promise<string[]> { return this.routes; }
  async setSysctl(): Promise<void> { /* recorded elsewhere */ }
}

async function setup(): Promise<{ service: NetworksService; kernel: RecordingKernel; dir: string; events: NetworkEvent[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-netsvc-'));
  const kernel = new RecordingKernel();
  const events: NetworkEvent[] = [];
  const service = new NetworksService({
    dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance: 'u1', onEvent: (e) => events.push(e),
  }, { kernel, listenDns: async () => ({ udpPort: 1, tcpPort: 2, close: async () => undefined }) });
  await service.start();
  return { service, kernel, dir, events };
}

test('predefined networks exist and the default bridge passes over a taken subnet', async () => {
  const { service, dir } = await setup();
  try {
    const names = (await service.list()).map((n) => n.Name).sort();
    assert.deepEqual(names, ['bridge', 'host', 'none']);
    const bridge = await service.inspect('bridge');
    assert.equal(bridge.IPAM.Config[0]?.Subnet, '172.18.0.0/16', 'host route 172.17.0.0/16 is passed over');
    assert.equal(bridge.Options['com.docker.network.bridge.default_bridge'], 'true');
    assert.equal((await service.list({ type: ['custom'] })).length, 0);
    await assert.rejects(service.inspect('nope'), /network nope not found/);
  } finally {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a sandbox on two networks: one default route, leases freed at destroy', async () => {
  const { service, kernel, dir, events } = await setup();
  try {
    await service.create({ Name: 'one', IPAM: { Config: [{ Subnet: '10.40.0.0/24', IPRange: '10.40.0.128/25' }] } });
    await service.create({ Name: 'two', EnableIPv6: true });
    const info = await service.createSandbox('c1', {
      name: 'app', hostname: 'app', networkMode: 'one', endpoints: { two: { Aliases: ['api'] } },
      extraHosts: ['gw:host-gateway'],
    });
    assert.equal(info.settings.Networks.one?.IPAddress, '10.40.0.128');
    assert.equal(info.settings.Networks.one?.Gateway, '10.40.0.1');
    assert.match(info.settings.Networks.two?.GlobalIPv6Address ?? '', /^fd/);
    assert.deepEqual(info.settings.Networks.two?.Aliases, ['api']);
    assert.equal(info.settings.IPAddress, '', 'top-level fields belong to the default bridge only');
    assert.match(info.resolvConfContent, /^nameserver 127\.0\.0\.11$/m);
    assert.ok(kernel.calls.includes('dns c1 10.40.0.1'), '127.0.0.11 leads to the first user network\'s gateway');
    assert.match(info.hostsContent, /\tgw$/m);
    assert.deepEqual(kernel.calls.filter((c) => c.startsWith('endpoint')), ['endpoint eth0 10.40.0.128/24 route=true', 'endpoint eth1 172.19.0.2/16 route=false']);
    await service.destroySandbox('c1');
    const again = await service.createSandbox('c2', { name: 'b', hostname: 'b', networkMode: 'one' });
    assert.equal(again.settings.Networks.one?.IPAddress, '10.40.0.128', 'the lease of c1 was freed');
    await service.destroySandbox('c2');
    assert.deepEqual(await readdir(path.join(dir, 'data/network/sandboxes')), []);
    assert.ok(events.some((e) => e.Action === 'connect' && e.Actor.Attributes.container === 'c1'));
  } finally {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('startup sweep releases sandboxes of dead containers and unknown links', async () => {
  const { service, kernel, dir } = await setup();
  await service.createSandbox('dead', { name: 'dead', hostname: 'dead', networkMode: 'bridge' });
  await service.createSandbox('alive', { name: 'alive', hostname: 'alive', networkMode: 'bridge' });
  await service.close();
  kernel.links.add('bvu1stray0000');
  kernel.calls = [];
  const restarted = new NetworksService({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance: 'u1' },
    { kernel, listenDns: async () => ({ udpPort: 1, tcpPort: 2, close: async () => undefined }) });
  try {
    await restarted.start(['alive']);
    assert.ok(kernel.calls.includes('rmnetns dead'));
    assert.ok(kernel.calls.includes('del bvu1stray0000'));
    assert.ok(!kernel.calls.includes('rmnetns alive'));
    assert.ok(restarted.sandbox('alive'));
    assert.equal(restarted.sandbox('dead'), undefined);
    assert.equal((await restarted.list({ name: ['bridge'] })).length, 1, 'predefined networks are not duplicated');
  } finally {
    await restarted.teardown();
    await restarted.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('--bip sets the default gateway; legacy links become hosts entries', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-netsvc-'));
  const kernel = new RecordingKernel();
  const service = new NetworksService({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance: 'u2', defaultBridgeSubnet: '10.77.3.1/16' },
    { kernel, listenDns: async () => ({ udpPort: 1, tcpPort: 2, close: async () => undefined }) });
  await service.start();
  try {
    const bridge = await service.inspect('bridge');
    assert.deepEqual(bridge.IPAM.Config[0], { Subnet: '10.77.0.0/16', Gateway: '10.77.3.1' });
    const db = await service.createSandbox('dbid', { name: 'db', hostname: 'dbhost', networkMode: 'default' });
    assert.equal(db.settings.IPAddress, '10.77.0.1', 'the first host address is free when the gateway is elsewhere');
    const app = await service.createSandbox('appid', { name: 'app', hostname: 'app', networkMode: 'bridge', links: [{ name: 'db', alias: 'database', containerId: 'dbid' }] });
    assert.match(app.hostsContent, /^10\.77\.0\.1\tdatabase dbhost db$/m);
    assert.match(app.resolvConfContent, /^nameserver (?!10\.77)/m, 'the default bridge has no embedded DNS');
    await assert.rejects(service.createSandbox('x', { name: 'x', hostname: 'x', networkMode: 'bridge', links: [{ name: 'gone', alias: 'g', containerId: 'gone' }] }), /cannot link to gone/);
  } finally {
    await service.teardown();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('host and container modes share namespaces; connect/disconnect on a running sandbox', async () => {
  const { service, dir } = await setup();
  try {
    const host = await service.createSandbox('h', { name: 'h', hostname: 'h', networkMode: 'host' });
    assert.equal(host.netnsPath, null);
    const owner = await service.createSandbox('o', { name: 'o', hostname: 'o', networkMode: 'bridge' });
    const joined = await service.createSandbox('j', { name: 'j', hostname: 'j', networkMode: 'container:o' });
    assert.equal(joined.netnsPath, owner.netnsPath);
    await assert.rejects(service.createSandbox('x', { name: 'x', hostname: 'x', networkMode: 'container:missing' }), /not running/);
    await service.create({ Name: 'extra' });
    const connected = await service.connect('o', 'extra', { Aliases: ['o2'] });
    assert.ok(connected.settings.Networks.extra?.IPAddress);
    await assert.rejects(service.connect('o', 'extra'), /already exists/);
    await assert.rejects(service.connect('j', 'extra'), /shares a network namespace/);
    const after = await service.disconnect('o', 'extra');
    assert.equal(after?.settings.Networks.extra, undefined);
    await assert.rejects(service.disconnect('o', 'extra'), /is not connected/);
    assert.equal(await service.disconnect('stopped', 'extra'), undefined);
  } finally {
    await service.teardown();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** a fake kernel whose link deletions wait until release() */
function slowDeletes(kernel: RecordingKernel): { release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const deleteLink = kernel.deleteLink.bind(kernel);
  kernel.deleteLink = async (name: string): Promise<void> => { await gate; await deleteLink(name); };
  return { release: () => release() };
}

test('a destroyed sandbox\'s veths are deleted in the background; their addresses are not leased until they are gone', async () => {
  const { service, kernel, dir } = await setup();
  const deletes = slowDeletes(kernel);
  try {
    const first = await service.createSandbox('c1', { name: 'one', hostname: 'one', networkMode: 'bridge' });
    const address = first.settings.Networks.bridge?.IPAddress;
    const veth = [...kernel.links].find((l) => l.startsWith('bvu1')) ?? '';
    await service.destroySandbox('c1'); // returns with the veth deletion still under way
    assert.ok(kernel.links.has(veth), 'the veth is still being deleted');
    const second = await service.createSandbox('c2', { name: 'two', hostname: 'two', networkMode: 'bridge' });
    assert.notEqual(second.settings.Networks.bridge?.IPAddress, address, 'the old veth still holds its address');
    deletes.release();
    await service.drained();
    assert.equal(kernel.links.has(veth), false);
    const third = await service.createSandbox('c3', { name: 'three', hostname: 'three', networkMode: 'bridge' });
    assert.equal(third.settings.Networks.bridge?.IPAddress, address, 'freed once the veth is gone');
  } finally {
    deletes.release();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a static address still held by a draining veth is waited for, and close() waits for the deletions', async () => {
  const { service, kernel, dir } = await setup();
  const deletes = slowDeletes(kernel);
  try {
    await service.create({ Name: 'fixed', IPAM: { Config: [{ Subnet: '10.41.0.0/24' }] } });
    const spec = { name: 'one', hostname: 'one', networkMode: 'fixed', endpoints: { fixed: { IPAMConfig: { IPv4Address: '10.41.0.9' } } } };
    await service.createSandbox('c1', spec);
    await service.destroySandbox('c1');
    const again = service.createSandbox('c1', spec); // a restart with --ip
    const progress = { made: false };
    void again.then(() => { progress.made = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(progress.made, false, 'it waits for the old veth');
    deletes.release();
    assert.equal((await again).settings.Networks.fixed?.IPAddress, '10.41.0.9');
    await service.destroySandbox('c1');
    await service.close();
    assert.deepEqual([...kernel.links].filter((l) => l.startsWith('bvu1')), [], 'close() waited for the deletion');
  } finally {
    deletes.release();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});
