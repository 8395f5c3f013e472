// User-defined networks: names through the embedded DNS (network-scoped), isolation between
// networks, --internal without a way out, none with only lo, hostile create requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeClientHost, runInNetns, spawnInNetns, startService, tcpEchoClientArgv, waitForListener } from './support.js';

/** busybox nslookup inside the sandbox, with the sandbox's own resolv.conf bind-mounted */
async function nslookup(netns: string, resolvConf: string, dir: string, name: string): Promise<{ code: number; stdout: string }> {
  const file = path.join(dir, `resolv-${Math.random().toString(16).slice(2)}.conf`);
  await writeFile(file, resolvConf);
  const script = `mount --bind ${file} /etc/resolv.conf && exec busybox nslookup ${name}`;
  return await runInNetns(netns, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script], 8000);
}

test('two sandboxes on a user network reach each other by name; other networks cannot', { skip: requires('root') }, async () => {
  const t = await startService();
  const dir = path.dirname(t.execRoot);
  const ids = { web: `c${t.instance}web`, cli: `c${t.instance}cli`, other: `c${t.instance}oth` };
  let server: ReturnType<typeof spawnInNetns> | undefined;
  try {
    const front = await t.service.create({ Name: `front-${t.instance}`, Labels: { tier: 'front' } });
    await t.service.create({ Name: `back-${t.instance}` });
    const web = await t.service.createSandbox(ids.web, {
      name: 'web', hostname: 'web', networkMode: `front-${t.instance}`,
      endpoints: { [`front-${t.instance}`]: { Aliases: ['www'] } },
    });
    const cli = await t.service.createSandbox(ids.cli, { name: 'cli', hostname: 'cli', networkMode: front.Id.slice(0, 12) });
    const other = await t.service.createSandbox(ids.other, { name: 'other', hostname: 'other', networkMode: `back-${t.instance}` });
    const webIp = web.settings.Networks[`front-${t.instance}`]?.IPAddress ?? '';
    assert.match(webIp, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(cli.resolvConfContent, /nameserver /);

    const byName = await nslookup(cli.netnsPath ?? '', cli.resolvConfContent, dir, 'web');
    assert.ok(byName.stdout.includes(webIp), `nslookup web from cli:\n${byName.stdout}`);
    const byAlias = await nslookup(cli.netnsPath ?? '', cli.resolvConfContent, dir, 'www');
    assert.ok(byAlias.stdout.includes(webIp), `nslookup www:\n${byAlias.stdout}`);
    // names are network-scoped: "web" is unknown on the back network
    const scoped = await nslookup(other.netnsPath ?? '', other.resolvConfContent, dir, 'web');
    assert.ok(!scoped.stdout.includes(webIp), `web must not resolve on back:\n${scoped.stdout}`);

    server = spawnInNetns(web.netnsPath ?? '', ['busybox', 'nc', '-ll', '-p', '8080', '-e', 'cat']);
    await waitForListener(web.netnsPath ?? '', 8080);
    const same = await runInNetns(cli.netnsPath ?? '', tcpEchoClientArgv(webIp, 8080, 'same-net'));
    assert.equal(same.stdout, 'same-net', same.stderr);
    const across = await runInNetns(other.netnsPath ?? '', tcpEchoClientArgv(webIp, 8080, 'across', 1500));
    assert.notEqual(across.stdout, 'across', 'a container on another network must not reach web');

    const inspected = await t.service.inspect(`front-${t.instance}`);
    assert.deepEqual(Object.keys(inspected.Containers).sort(), [ids.cli, ids.web].sort());
    assert.equal(inspected.Labels.tier, 'front');
    await assert.rejects(t.service.remove(`front-${t.instance}`), /has active endpoints/);
    assert.deepEqual((await t.service.list({ label: ['tier=front'] })).map((n) => n.Name), [`front-${t.instance}`]);
  } finally {
    server?.kill('SIGKILL');
    for (const id of Object.values(ids)) await t.service.destroySandbox(id);
    const pruned = await t.service.prune();
    assert.deepEqual(pruned.NetworksDeleted.sort(), [`back-${t.instance}`, `front-${t.instance}`]);
    await t.finish();
  }
  assert.deepEqual([...new Set(t.events.map((e) => e.Action))].sort(), ['connect', 'create', 'destroy', 'disconnect']);
});

test('an --internal network has no way out; none has only lo', { skip: requires('root') }, async () => {
  const t = await startService();
  const ids = { inner: `c${t.instance}int`, none: `c${t.instance}non` };
  let client: Awaited<ReturnType<typeof makeClientHost>> | undefined;
  let server: ReturnType<typeof spawnInNetns> | undefined;
  try {
    client = await makeClientHost(t.instance, path.dirname(t.execRoot), 43);
    server = spawnInNetns(client.netns, ['busybox', 'nc', '-ll', '-p', '9000', '-e', 'cat']);
    await waitForListener(client.netns, 9000);
    await t.service.create({ Name: `inner-${t.instance}`, Internal: true });
    const inner = await t.service.createSandbox(ids.inner, { name: 'inner', hostname: 'inner', networkMode: `inner-${t.instance}` });
    const routes = await runInNetns(inner.netnsPath ?? '', ['ip', 'route']);
    assert.ok(!routes.stdout.includes('default'), `internal network has no default route:\n${routes.stdout}`);
    const gateway = inner.settings.Networks[`inner-${t.instance}`]?.Gateway ?? '';
    await runInNetns(inner.netnsPath ?? '', ['ip', 'route', 'add', 'default', 'via', gateway]);
    const out = await runInNetns(inner.netnsPath ?? '', tcpEchoClientArgv(client.clientIp, 9000, 'escape', 1500));
    assert.notEqual(out.stdout, 'escape', 'even with a route added by hand, the firewall drops forwarded traffic');
    // a bridge container reaches the same client (so the failure above is the firewall's doing)
    const open = await t.service.createSandbox(`c${t.instance}opn`, { name: 'open', hostname: 'open', networkMode: 'bridge' });
    const ok = await runInNetns(open.netnsPath ?? '', tcpEchoClientArgv(client.clientIp, 9000, 'out'));
    assert.equal(ok.stdout, 'out', ok.stderr);
    await t.service.destroySandbox(`c${t.instance}opn`);

    const none = await t.service.createSandbox(ids.none, { name: 'none', hostname: 'none', networkMode: 'none' });
    const links = await runInNetns(none.netnsPath ?? '', ['ip', '-o', 'link']);
    assert.deepEqual(links.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim()), ['lo']);
    assert.deepEqual(Object.keys(none.settings.Networks), ['none']);
  } finally {
    server?.kill('SIGKILL');
    for (const id of Object.values(ids)) await t.service.destroySandbox(id);
    await client?.destroy();
    await t.service.remove(`inner-${t.instance}`).catch(() => undefined);
    await t.finish();
  }
});

test('hostile network requests are refused and leave nothing behind', { skip: requires('root') }, async () => {
  const t = await startService();
  try {
    await t.service.create({ Name: `a-${t.instance}`, IPAM: { Config: [{ Subnet: '10.213.0.0/24' }] } });
    await assert.rejects(t.service.create({ Name: `a-${t.instance}` }), /already exists/);
    await assert.rejects(t.service.create({ Name: `b-${t.instance}`, IPAM: { Config: [{ Subnet: '10.213.0.128/25' }] } }), /overlaps/);
    await assert.rejects(t.service.create({ Name: `c-${t.instance}`, IPAM: { Config: [{ Subnet: '10.214.0.0/24', Gateway: '10.215.0.1' }] } }), /not inside subnet/);
    await assert.rejects(t.service.create({ Name: 'bad name!' }), /invalid network name/);
    await assert.rejects(t.service.create({ Name: `d-${t.instance}`, Driver: 'overlay' }), /not supported/);
    await assert.rejects(t.service.remove('bridge'), /pre-defined/);
    await assert.rejects(t.service.createSandbox(`c${t.instance}bad`, {
      name: 'bad', hostname: 'bad', networkMode: `a-${t.instance}`,
      endpoints: { [`a-${t.instance}`]: { IPAMConfig: { IPv4Address: '10.99.0.5' } } },
    }), /not inside subnet/);
    const fixed = await t.service.createSandbox(`c${t.instance}fix`, {
      name: 'fix', hostname: 'fix', networkMode: `a-${t.instance}`,
      endpoints: { [`a-${t.instance}`]: { IPAMConfig: { IPv4Address: '10.213.0.77' } } },
    });
    assert.equal(fixed.settings.Networks[`a-${t.instance}`]?.IPAddress, '10.213.0.77');
    await assert.rejects(t.service.createSandbox(`c${t.instance}tw`, {
      name: 'twin', hostname: 'twin', networkMode: `a-${t.instance}`,
      endpoints: { [`a-${t.instance}`]: { IPAMConfig: { IPv4Address: '10.213.0.77' } } },
    }), /already in use/);
    assert.equal(t.service.sandbox(`c${t.instance}tw`), undefined);
    await t.service.destroySandbox(`c${t.instance}fix`);
    assert.deepEqual((await t.service.list()).map((n) => n.Name).filter((n) => n.endsWith(t.instance)), [`a-${t.instance}`]);
    await t.service.remove(`a-${t.instance}`);
  } finally {
    await t.finish();
  }
});

test('an --ipv6 network gives each sandbox an IPv6 address the other reaches', { skip: requires('root') }, async () => {
  const t = await startService();
  const ids = [`c${t.instance}v6a`, `c${t.instance}v6b`];
  let server: ReturnType<typeof spawnInNetns> | undefined;
  try {
    await t.service.create({ Name: `six-${t.instance}`, EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd42:be47::/64' }] } });
    const a = await t.service.createSandbox(ids[0] ?? '', { name: 'a6', hostname: 'a6', networkMode: `six-${t.instance}` });
    const b = await t.service.createSandbox(ids[1] ?? '', { name: 'b6', hostname: 'b6', networkMode: `six-${t.instance}` });
    const a6 = a.settings.Networks[`six-${t.instance}`]?.GlobalIPv6Address ?? '';
    assert.match(a6, /^fd42:be47::/);
    assert.equal(a.settings.Networks[`six-${t.instance}`]?.IPv6Gateway, 'fd42:be47::1');
    server = spawnInNetns(a.netnsPath ?? '', [process.execPath, '-e', "require('net').createServer(s=>s.pipe(s)).listen(7070,'::')"]);
    await waitForListener(a.netnsPath ?? '', 7070);
    const script = `const s=require('net').connect(7070,'${a6}',()=>s.write('v6'));s.on('data',d=>{process.stdout.write(d);s.destroy()});s.on('error',e=>{console.error(e.message);process.exit(2)})`;
    const out = await runInNetns(b.netnsPath ?? '', [process.execPath, '-e', script]);
    assert.equal(out.stdout, 'v6', out.stderr);
  } finally {
    server?.kill('SIGKILL');
    for (const id of ids) await t.service.destroySandbox(id);
    await t.service.remove(`six-${t.instance}`).catch(() => undefined);
    await t.finish();
  }
});
