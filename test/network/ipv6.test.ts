// IPv6 on a network created with --ipv6: a port published on every address answers over IPv4,
// over IPv6 from a remote client (kernel DNAT to the container's IPv6 address) and on [::1]
// (the reserving socket relays it: the kernel cannot route ::1 out of lo); an explicit [::1]
// binding; and a clear refusal on a network without IPv6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { freePort, makeClientHost, runInNetns, spawnInNetns, startService, tcpRoundTrip, waitForListener } from './support.js';

function v6ClientArgv(host: string, port: number, text: string): string[] {
  const script = `const s=require('net').connect({port:${port},host:'${host}'},()=>s.write('${text}'));`
    + "s.setTimeout(3000,()=>process.exit(3));s.on('data',d=>{process.stdout.write(d);s.destroy()});s.on('error',e=>{console.error(e.message);process.exit(2)})";
  return [process.execPath, '-e', script];
}

test('--ipv6 network: published ports over IPv4, IPv6 from a remote client, and [::1]', { skip: requires('root'), timeout: 60_000 }, async () => {
  const t = await startService();
  const prefix = `fd42:${randomInt(0x1000, 0xffff).toString(16)}:${randomInt(0x1000, 0xffff).toString(16)}`;
  const six = `six-${t.instance}`;
  const [any, loopback] = [await freePort(), await freePort()];
  const id = `c${t.instance}v6p`;
  let client: Awaited<ReturnType<typeof makeClientHost>> | undefined;
  let server: ReturnType<typeof spawnInNetns> | undefined;
  try {
    await t.service.create({ Name: six, EnableIPv6: true, IPAM: { Config: [{ Subnet: `${prefix}::/64` }] } });
    const info = await t.service.createSandbox(id, {
      name: 'v6p', hostname: 'v6p', networkMode: six,
      portBindings: { '7070/tcp': [{ HostIp: '', HostPort: String(any) }, { HostIp: '::1', HostPort: String(loopback) }] },
    });
    const netns = info.netnsPath ?? '';
    const address6 = info.settings.Networks[six]?.GlobalIPv6Address ?? '';
    assert.ok(address6.startsWith(`${prefix}::`), address6);
    const routes = await runInNetns(netns, ['ip', '-6', 'route']);
    assert.match(routes.stdout, new RegExp(`default via ${prefix}::1 dev eth0`));
    assert.deepEqual(info.settings.Ports['7070/tcp']?.map((b) => b.HostIp).sort(), ['0.0.0.0', '::', '::1']);
    server = spawnInNetns(netns, [process.execPath, '-e', "require('net').createServer(s=>s.pipe(s)).listen(7070,'::')"]);
    await waitForListener(netns, 7070);

    assert.equal(await tcpRoundTrip('127.0.0.1', any, 'v4-local'), 'v4-local');
    assert.equal(await tcpRoundTrip('::1', any, 'v6-loopback'), 'v6-loopback');
    assert.equal(await tcpRoundTrip('::1', loopback, 'only-loopback'), 'only-loopback');
    // a remote client over IPv6: the veth pair gets addresses of a prefix of its own
    client = await makeClientHost(t.instance, path.dirname(t.execRoot), 47);
    const clientPrefix = `fd43:${randomInt(0x1000, 0xffff).toString(16)}::`;
    execFileSync('ip', ['-6', 'addr', 'add', `${clientPrefix}1/64`, 'dev', `bc${t.instance}h`, 'nodad']);
    execFileSync('nsenter', [`--net=${client.netns}`, 'ip', '-6', 'addr', 'add', `${clientPrefix}2/64`, 'dev', 'eth0', 'nodad']);
    execFileSync('nsenter', [`--net=${client.netns}`, 'ip', '-6', 'route', 'add', 'default', 'via', `${clientPrefix}1`]);
    const remote = await runInNetns(client.netns, v6ClientArgv(`${clientPrefix}1`, any, 'v6-remote'));
    assert.equal(remote.stdout, 'v6-remote', remote.stderr);

    await assert.rejects(t.service.createSandbox(`c${t.instance}v4o`, {
      name: 'v4o', hostname: 'v4o', networkMode: 'bridge', portBindings: { '80/tcp': [{ HostIp: '::1', HostPort: '' }] },
    }), /has no IPv6 address/);
    assert.equal(t.service.sandbox(`c${t.instance}v4o`), undefined);
  } finally {
    server?.kill('SIGKILL');
    await t.service.destroySandbox(id);
    await client?.destroy();
    await t.service.remove(six).catch(() => undefined);
    await t.finish();
  }
});
