// The networks service of a rootless daemon, against a recording kernel (no root): its bridge
// networks are the ordinary ones (made in the rootless netns, which the kernel is bound to),
// containers can join several networks and be connected, and a published port's host socket
// relays to the target the rootless netns gives (recorded here), described in inspect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NetworksService } from './service.js';
import type { BridgeSpec, EndpointPlumbing, NetworkKernel } from '../../network/kernel.js';
import type { RootlessNetworking } from '../../network/rootless-ports.js';

class RecordingKernel implements NetworkKernel {
  calls: string[] = [];
  async ensureBridge(spec: BridgeSpec): Promise<void> { this.calls.push(`bridge ${spec.name}`); }
  async deleteLink(name: string): Promise<void> { this.calls.push(`del ${name}`); }
  async listLinks(): Promise<string[]> { return []; }
  async createNetns(file: string, first?: EndpointPlumbing): Promise<void> { this.calls.push(`netns ${path.basename(file)}${first ? ` +${first.ifName} ${first.ipv4 ?? ''}` : ''}`); }
  async destroyNetns(file: string): Promise<void> { this.calls.push(`rmnetns ${path.basename(file)}`); }
  async addEndpoint(p: EndpointPlumbing): Promise<void> { this.calls.push(`endpoint ${p.ifName} ${p.ipv4 ?? ''}`); }
  async setSandboxDns(): Promise<void> { this.calls.push('dns'); }
  async applyFirewall(): Promise<void> { this.calls.push('nft'); }
  async deleteFirewall(): Promise<void> { this.calls.push('nft-delete'); }
  async listFirewallTables(): Promise<Array<{ family: string; name: string }>> { return []; }
  async hostRoutes(): Promise<string[]> { return []; }
  async setSysctl(key: string): Promise<void> { this.calls.push(`sysctl ${key}`); }
}

test('rootless: ordinary bridges in the rootless netns, several networks, connect, and ports relayed to its targets', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-rootless-net-'));
  const kernel = new RecordingKernel();
  const targets: string[] = [];
  const rootless: RootlessNetworking = {
    netnsPath: '/run/x/rootless-netns/netns',
    portForwarding: 'rootless-relay: test',
    dnsSockets: () => { throw new Error('listenDns is faked here'); },
    proxyTarget: (ip, port) => {
      targets.push(`${ip}:${port}`);
      // a namespace that is gone: the relay closes the client's connection
      return { ip, port, connectTcp: () => { throw new Error('no namespace'); } };
    },
  };
  const service = new NetworksService({ dataRoot: path.join(dir, 'data'), execRoot: path.join(dir, 'exec'), instance: 'rl1', rootless },
    { kernel, listenDns: async () => ({ udpPort: 1, tcpPort: 2, close: async () => undefined }) });
  try {
    await service.start();
    assert.ok(kernel.calls.includes('sysctl net/ipv4/ip_forward'), 'forwarding is switched on (in the rootless netns)');
    assert.ok(kernel.calls.some((c) => c.startsWith('bridge bbrl1')), 'the default bridge is made');
    await service.create({ Name: 'front' });
    await service.create({ Name: 'back' });
    const info = await service.createSandbox('c1', {
      name: 'web', hostname: 'web', networkMode: 'front', endpoints: { back: {} },
      portBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] },
    });
    assert.deepEqual(Object.keys(info.settings.Networks).sort(), ['back', 'front'], 'a container joins several networks');
    assert.match(info.resolvConfContent, /nameserver 127\.0\.0\.11/, 'user networks get the embedded DNS');
    const ip = info.settings.Networks['front']?.IPAddress ?? '';
    assert.deepEqual(targets, [`${ip}:80`], 'the host port relays to the container address through the rootless netns');
    const hostPort = Number(info.settings.Ports['80/tcp']?.[0]?.HostPort);
    assert.ok(hostPort > 0);
    const closed = await new Promise<boolean>((resolve) => {
      const client = net.connect(hostPort, '127.0.0.1');
      client.on('error', () => resolve(true));
      client.on('close', () => resolve(true));
    });
    assert.equal(closed, true, 'a relay that cannot reach the namespace closes the client, the daemon lives on');
    assert.equal((await service.inspect('front')).Options['berth.port-forwarding'], 'rootless-relay: test');
    await service.create({ Name: 'extra' });
    const connected = await service.connect('c1', 'extra');
    assert.ok(connected.settings.Networks['extra'], 'network connect works rootless');
    await service.destroySandbox('c1');
    assert.ok(kernel.calls.includes('rmnetns c1'));
  } finally {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
});
