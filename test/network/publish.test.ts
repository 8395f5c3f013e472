// Published ports through the kernel path (DNAT): from the host at 127.0.0.1, from a
// "remote" client host, UDP, hairpin from the container to its own published port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { requires } from '../support/requirements.js';
import {
  freePort, makeClientHost, runInNetns, spawnInNetns, startService, tcpEchoClientArgv, tcpRoundTrip,
  udpEchoClientArgv, waitForListener,
} from './support.js';

test('a published echo server answers from 127.0.0.1, a remote client and itself (hairpin)', { skip: requires('root') }, async () => {
  const t = await startService();
  const hostPort = await freePort();
  const id = `c${t.instance}echo`;
  let client: Awaited<ReturnType<typeof makeClientHost>> | undefined;
  let server: ReturnType<typeof spawnInNetns> | undefined;
  try {
    client = await makeClientHost(t.instance, path.dirname(t.execRoot), 41);
    const info = await t.service.createSandbox(id, {
      name: 'echo', hostname: 'echo', networkMode: 'default',
      portBindings: { '50000/tcp': [{ HostIp: '', HostPort: String(hostPort) }] },
    });
    server = spawnInNetns(info.netnsPath ?? '', ['busybox', 'nc', '-ll', '-p', '50000', '-e', 'cat']);
    await waitForListener(info.netnsPath ?? '', 50000);
    assert.equal(info.settings.Ports['50000/tcp']?.[0]?.HostPort, String(hostPort));
    assert.match(info.settings.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(await tcpRoundTrip('127.0.0.1', hostPort, 'from-localhost'), 'from-localhost');
    const remote = await runInNetns(client.netns, tcpEchoClientArgv(client.hostIp, hostPort, 'from-remote'));
    assert.equal(remote.stdout, 'from-remote', remote.stderr);
    // hairpin: the container reaches its own published port through the host's address
    const hairpin = await runInNetns(info.netnsPath ?? '', tcpEchoClientArgv(info.settings.Gateway, hostPort, 'hairpin'));
    assert.equal(hairpin.stdout, 'hairpin', hairpin.stderr);
    // a container on another network reaches the published port through its own gateway
    await t.service.create({ Name: `other-${t.instance}` });
    const other = await t.service.createSandbox(`c${t.instance}oth`, { name: 'oth', hostname: 'oth', networkMode: `other-${t.instance}` });
    try {
      const gateway = other.settings.Networks[`other-${t.instance}`]?.Gateway ?? '';
      const crossed = await runInNetns(other.netnsPath ?? '', tcpEchoClientArgv(gateway, hostPort, 'cross-network'));
      assert.equal(crossed.stdout, 'cross-network', crossed.stderr);
      const direct = await runInNetns(other.netnsPath ?? '', tcpEchoClientArgv(info.settings.IPAddress, 50000, 'direct', 1500));
      assert.notEqual(direct.stdout, 'direct', 'the container address itself stays isolated');
    } finally {
      await t.service.destroySandbox(`c${t.instance}oth`);
      await t.service.remove(`other-${t.instance}`);
    }
    // the host port is held: a second publish of it is refused at start, and nothing is left half-made
    await assert.rejects(t.service.createSandbox(`c${t.instance}dup`, {
      name: 'dup', hostname: 'dup', networkMode: 'default',
      portBindings: { '80/tcp': [{ HostIp: '', HostPort: String(hostPort) }] },
    }), /already in use/);
    assert.equal(t.service.sandbox(`c${t.instance}dup`), undefined);
  } finally {
    server?.kill('SIGKILL');
    await t.service.destroySandbox(id);
    await client?.destroy();
    await t.finish();
  }
});

test('UDP publishing and -P ephemeral ports', { skip: requires('root') }, async () => {
  const t = await startService();
  const id = `c${t.instance}udp`;
  const info = await t.service.createSandbox(id, {
    name: 'udp', hostname: 'udp', networkMode: 'bridge',
    exposedPorts: { '5353/udp': {} }, publishAllPorts: true,
  });
  const netns = info.netnsPath ?? '';
  const server = spawnInNetns(netns, [process.execPath, '-e',
    "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(5353)"]);
  try {
    await waitForListener(netns, 5353, 'udp');
    const hostPort = Number(info.settings.Ports['5353/udp']?.[0]?.HostPort);
    assert.ok(hostPort > 1024, `ephemeral host port chosen: ${hostPort}`);
    const client = await makeClientHost(t.instance, path.dirname(t.execRoot), 42);
    try {
      const reply = await runInNetns(client.netns, udpEchoClientArgv(client.hostIp, hostPort, 'udp-hello'));
      assert.equal(reply.stdout, 'udp-hello', reply.stderr);
    } finally {
      await client.destroy();
    }
  } finally {
    server.kill('SIGKILL');
    await t.service.destroySandbox(id);
    await t.finish();
  }
  assert.ok(path.isAbsolute(info.netnsPath ?? ''));
});

test('publishBehindHostFirewall: other hosts go through the input policy (userland proxy)', { skip: requires('root') }, async () => {
  const t = await startService({ publishBehindHostFirewall: true });
  const hostPort = await freePort();
  const id = `c${t.instance}prx`;
  const guard = `berthtest-${t.instance}`;
  let client: Awaited<ReturnType<typeof makeClientHost>> | undefined;
  let server: ReturnType<typeof spawnInNetns> | undefined;
  try {
    client = await makeClientHost(t.instance, path.dirname(t.execRoot), 44);
    const info = await t.service.createSandbox(id, {
      name: 'prx', hostname: 'prx', networkMode: 'bridge',
      portBindings: { '7000/tcp': [{ HostIp: '', HostPort: String(hostPort) }] },
    });
    server = spawnInNetns(info.netnsPath ?? '', ['busybox', 'nc', '-ll', '-p', '7000', '-e', 'cat']);
    await waitForListener(info.netnsPath ?? '', 7000);
    const network = await t.service.inspect('bridge');
    assert.match(network.Options['berth.port-forwarding'] ?? '', /userland-proxy/);
    assert.equal(await tcpRoundTrip('127.0.0.1', hostPort, 'local'), 'local');
    const open = await runInNetns(client.netns, tcpEchoClientArgv(client.hostIp, hostPort, 'proxied'));
    assert.equal(open.stdout, 'proxied', open.stderr);
    // the host's own input firewall now drops the port: the published port obeys it
    execFileSync('nft', ['-f', '-'], { input: `table inet ${guard} {\n chain input {\n  type filter hook input priority 0; policy accept;\n  iifname "bc${t.instance}h" tcp dport ${hostPort} drop\n }\n}\n` });
    const blocked = await runInNetns(client.netns, tcpEchoClientArgv(client.hostIp, hostPort, 'blocked', 1500));
    assert.notEqual(blocked.stdout, 'blocked');
    assert.equal(await tcpRoundTrip('127.0.0.1', hostPort, 'still-local'), 'still-local');
  } finally {
    execFileSync('nft', ['-f', '-'], { input: `table inet ${guard} {}\ndelete table inet ${guard}\n` });
    server?.kill('SIGKILL');
    await t.service.destroySandbox(id);
    await client?.destroy();
    await t.finish();
  }
});
