// Rootless sandboxes against a recording kernel and a recording user-mode relay: no host
// bridge, veth or nftables is asked for, ports go to the relay, release stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NetworksService } from './service.js';
import { servedByUserMode } from './user-mode-sandboxes.js';
import type { BridgeSpec, EndpointPlumbing, NetworkKernel } from '../../network/kernel.js';
import type { PortMapping } from '../../network/ports.js';
import type { UserModeAttachment, UserModeNetworking } from '../../network/user-mode.js';

class RecordingKernel implements NetworkKernel {
  calls: string[] = [];
  async ensureBridge(spec: BridgeSpec): Promise<void> { this.calls.push(`bridge ${spec.name}`); }
  async deleteLink(name: string): Promise<void> { this.calls.push(`del ${name}`); }
  async listLinks(): Promise<string[]> { return []; }
  async createNetns(file: string, first?: EndpointPlumbing): Promise<void> { this.calls.push(`netns ${path.basename(file)}${first ? ' +veth' : ''}`); }
  async destroyNetns(file: string): Promise<void> { this.calls.push(`rmnetns ${path.basename(file)}`); }
  async addEndpoint(p: EndpointPlumbing): Promise<void> { this.calls.push(`endpoint ${p.ifName}`); }
  async setSandboxDns(): Promise<void> { this.calls.push('dns'); }
  async applyFirewall(): Promise<void> { this.calls.push('nft'); }
  async deleteFirewall(): Promise<void> { this.calls.push('nft-delete'); }
  async listFirewallTables(): Promise<Array<{ family: string; name: string }>> { return []; }
  async hostRoutes(): Promise<string[]> { return []; }
  async setSysctl(key: string): Promise<void> { this.calls.push(`sysctl ${key}`); }
}

class RecordingRelay implements UserModeNetworking {
  readonly name = 'pasta';
  calls: string[] = [];
  usable = true;
  async check(): Promise<void> { if (!this.usable) throw new Error('rootless networking needs read-write access to /dev/net/tun'); }
  async attach(containerId: string, netnsPath: string, mappings: readonly PortMapping[]): Promise<UserModeAttachment> {
    this.calls.push(`attach ${containerId} ${path.basename(netnsPath)} ${mappings.map((m) => `${m.hostPortStart}:${m.containerPort}/${m.protocol}`).join(',')}`);
    return { ipv4: '192.0.2.2/24', gateway4: '192.0.2.1', ports: mappings.map((m) => ({ protocol: m.protocol === 'udp' ? 'udp' : 'tcp', hostIp: m.hostIp, hostPort: m.hostPortStart || 40000, containerPort: m.containerPort })) };
  }
  async detach(containerId: string): Promise<void> { this.calls.push(`detach ${containerId}`); }
  async sweep(keep: ReadonlySet<string>): Promise<void> { this.calls.push(`sweep ${[...keep].join(',')}`); }
}

async function withService(fn: (s: NetworksService, kernel: RecordingKernel, relay: RecordingRelay) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-usermode-'));
  const kernel = new RecordingKernel();
  const relay = new RecordingRelay();
  const service = new NetworksService({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance: 'r1', userMode: relay }, { kernel });
  try {
    await service.start();
    await fn(service, kernel, relay);
  } finally {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('user mode serves the default and bridge networks, not host, none or container:X', () => {
  assert.equal(servedByUserMode('default'), true);
  assert.equal(servedByUserMode('bridge'), true);
  assert.equal(servedByUserMode('mynet'), true);
  assert.equal(servedByUserMode('host'), false);
  assert.equal(servedByUserMode('none'), false);
  assert.equal(servedByUserMode('container:abc'), false);
});

test('rootless start makes no bridge, sysctl or nftables table; a sandbox gets a netns and the relay with its ports', async () => {
  await withService(async (service, kernel, relay) => {
    assert.deepEqual(kernel.calls, [], 'start asks nothing of the host network');
    assert.deepEqual(relay.calls, ['sweep ']);
    const info = await service.createSandbox('c1', { name: 'web', hostname: 'web', networkMode: 'default', portBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } });
    assert.deepEqual(kernel.calls, ['netns c1'], 'a namespace without a veth');
    assert.equal(relay.calls[1], 'attach c1 c1 8080:80/tcp');
    assert.equal(info.settings.IPAddress, '192.0.2.2');
    assert.equal(info.settings.Gateway, '192.0.2.1');
    assert.deepEqual(info.settings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: '8080' }]);
    assert.match(info.hostsContent, /^192\.0\.2\.2\tweb$/m);
    await service.destroySandbox('c1');
    assert.equal(relay.calls[2], 'detach c1');
    assert.deepEqual(kernel.calls, ['netns c1', 'rmnetns c1'], 'no link or firewall work on release either');
    assert.equal(service.sandbox('c1'), undefined);
  });
});

test('rootless: host and none modes need no relay; a second network and connect are refused clearly', async () => {
  await withService(async (service, kernel, relay) => {
    await service.createSandbox('h1', { name: 'h', hostname: 'h', networkMode: 'host' });
    await service.createSandbox('n1', { name: 'n', hostname: 'n', networkMode: 'none' });
    assert.deepEqual(relay.calls, ['sweep ']);
    await service.create({ Name: 'mynet' });
    assert.ok(!kernel.calls.some((c) => c.startsWith('bridge') || c === 'nft'), 'a user network makes no bridge and no table');
    await assert.rejects(service.createSandbox('c2', { name: 'x', hostname: 'x', networkMode: 'bridge', endpoints: { mynet: {} } }), /one network only/);
    await service.createSandbox('c3', { name: 'y', hostname: 'y', networkMode: 'mynet' });
    await assert.rejects(service.connect('c3', 'bridge'), /rootless berthd cannot connect container c3/);
  });
});

test('rootless: an unusable relay fails the start of the container and leaves no namespace', async () => {
  await withService(async (service, kernel, relay) => {
    relay.usable = false;
    await assert.rejects(service.createSandbox('c4', { name: 'z', hostname: 'z', networkMode: 'default' }), /\/dev\/net\/tun/);
    assert.deepEqual(kernel.calls, []);
    assert.equal(service.sandbox('c4'), undefined);
  });
});
