// End to end through berthd and the docker CLI: the seed's echo server published with -p,
// `docker port`, names on a user-defined network, --network none and host.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBusyboxRootfs, REPO_ROOT } from '../support/busybox-rootfs.js';
import { NetworksService } from '../../src/daemon/networks/service.js';
import { instanceFromDataRoot } from '../../src/network/names.js';
import {
  assertNoLeaks, freePort, makeClientHost, runInNetns, tcpEchoClientArgv, tcpRoundTrip, token,
} from './support.js';

const FROM_DIST = import.meta.url.includes('/dist/');

function daemonArgv(): string[] {
  return FROM_DIST
    ? [process.execPath, path.join(REPO_ROOT, 'dist/src/berthd/main.js')]
    : [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/berthd/main.ts')];
}

describe('networking through berthd and the docker CLI', { skip: requires('root', 'docker') }, () => {
  const tok = token();
  const root = `/tmp/berth-nete2e-${tok}`;
  const dataRoot = path.join(root, 'data');
  const execRoot = path.join(root, 'exec');
  const socket = path.join(root, 'd.sock');
  const image = `berth-nete2e-${tok}:latest`;
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  const docker = (args: string[], timeout = 60_000): { code: number; stdout: string; stderr: string } => {
    try {
      const stdout = execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}` }, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  before(async () => {
    await mkdir(root, { recursive: true });
    const [node = process.execPath, ...args] = daemonArgv();
    daemon = spawn(node, [...args, '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--cgroup-parent', `/berth-nete2e-${tok}`],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO_ROOT });
    daemon.stderr?.on('data', (c: Buffer) => { daemonLog += c.toString(); });
    for (let i = 0; i < 300 && !existsSync(socket); i++) {
      if (daemon.exitCode !== null) throw new Error(`berthd exited: ${daemonLog.slice(-2000)}`);
      await sleep(100);
    }
    await makeBusyboxRootfs(path.join(root, 'rootfs'), { probe: false });
    execFileSync('tar', ['-C', path.join(root, 'rootfs'), '-cf', path.join(root, 'rootfs.tar'), '.']);
    const imported = docker(['import', '-c', 'CMD ["/bin/sh"]', path.join(root, 'rootfs.tar'), image]);
    assert.equal(imported.code, 0, imported.stderr);
  });

  after(async () => {
    const ids = docker(['ps', '-aq', '--filter', `label=berth-nete2e=${tok}`]).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) docker(['rm', '-f', ...ids]);
    docker(['network', 'rm', `net-${tok}`]);
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    }
    // the default bridge outlives the daemon (as docker0 does): remove it for the leak check
    const leftovers = new NetworksService({ dataRoot, execRoot });
    await leftovers.start([]);
    await leftovers.teardown();
    await leftovers.close();
    await assertNoLeaks(instanceFromDataRoot(path.resolve(dataRoot)), execRoot);
    await rm(root, { recursive: true, force: true });
  });

  test('the echo server published with -p answers from 127.0.0.1 and from a remote client; docker port shows it', async () => {
    const hostPort = await freePort();
    const run = docker(['run', '-d', '-l', `berth-nete2e=${tok}`, '--name', `echo-${tok}`, '-p', `${hostPort}:50000`, image, 'nc', '-ll', '-p', '50000', '-e', 'cat']);
    assert.equal(run.code, 0, `${run.stderr}\n${daemonLog.slice(-1500)}`);
    let reply = '';
    for (let i = 0; i < 50 && reply === ''; i++) {
      reply = await tcpRoundTrip('127.0.0.1', hostPort, 'hello berth\n').catch(() => '');
      if (reply === '') await sleep(100);
    }
    assert.equal(reply, 'hello berth\n');
    // and from another machine: a netns joined to the host by a veth pair
    const client = await makeClientHost(tok, root, 45);
    try {
      const remote = await runInNetns(client.netns, tcpEchoClientArgv(client.hostIp, hostPort, 'from-remote'));
      assert.equal(remote.stdout, 'from-remote', remote.stderr);
    } finally {
      await client.destroy();
    }
    const port = docker(['port', `echo-${tok}`]);
    assert.match(port.stdout, new RegExp(`50000/tcp -> 0\\.0\\.0\\.0:${hostPort}`));
    const inspect = JSON.parse(docker(['inspect', `echo-${tok}`]).stdout) as Array<{ NetworkSettings: { IPAddress: string; Networks: Record<string, unknown> } }>;
    assert.match(inspect[0]?.NetworkSettings.IPAddress ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(Object.keys(inspect[0]?.NetworkSettings.Networks ?? {}), ['bridge']);
  });

  test('containers on a user-defined network find each other by name', () => {
    assert.equal(docker(['network', 'create', `net-${tok}`]).code, 0);
    const web = docker(['run', '-d', '-l', `berth-nete2e=${tok}`, '--name', `web-${tok}`, '--network', `net-${tok}`, '--network-alias', 'www', image, 'sleep', '300']);
    assert.equal(web.code, 0, web.stderr);
    const lookup = docker(['run', '--rm', '-l', `berth-nete2e=${tok}`, '--network', `net-${tok}`, image, 'nslookup', 'www']);
    assert.equal(lookup.code, 0, lookup.stdout + lookup.stderr);
    const ip = docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "net-${tok}").IPAddress}}`, `web-${tok}`]).stdout.trim();
    assert.ok(ip !== '' && lookup.stdout.includes(ip), lookup.stdout);
    const ping = docker(['run', '--rm', '-l', `berth-nete2e=${tok}`, '--network', `net-${tok}`, image, 'ping', '-c', '1', '-W', '2', `web-${tok}`]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test('--add-host host-gateway, --dns and --dns-search reach /etc/hosts and /etc/resolv.conf; -P publishes EXPOSEd ports', () => {
    const out = docker(['run', '--rm', '-l', `berth-nete2e=${tok}`, '--add-host', 'gw:host-gateway', '--add-host', 'db:10.1.2.3',
      '--dns', '9.9.9.9', '--dns-search', 'example.test', image, 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf']);
    assert.equal(out.code, 0, out.stderr);
    const gateway = docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']).stdout.trim();
    assert.match(out.stdout, new RegExp(`^${gateway.replace(/\./g, '\\.')}\\tgw$`, 'm'));
    assert.match(out.stdout, /^10\.1\.2\.3\tdb$/m);
    assert.match(out.stdout, /^nameserver 9\.9\.9\.9$/m);
    assert.match(out.stdout, /^search example\.test$/m);
    const id = docker(['run', '-d', '-l', `berth-nete2e=${tok}`, '-P', '--expose', '8080', '--expose', '53/udp', image, 'sleep', '300']).stdout.trim();
    const ports = docker(['port', id]).stdout;
    assert.match(ports, /^8080\/tcp -> 0\.0\.0\.0:\d+$/m);
    assert.match(ports, /^53\/udp -> 0\.0\.0\.0:\d+$/m);
  });

  test('--network none has only lo; --network host sees the host interfaces', () => {
    const none = docker(['run', '--rm', '-l', `berth-nete2e=${tok}`, '--network', 'none', image, 'ip', '-o', 'link']);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(none.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim()), ['lo']);
    const host = docker(['run', '--rm', '-l', `berth-nete2e=${tok}`, '--network', 'host', image, 'ip', '-o', 'link']);
    assert.equal(host.code, 0, host.stderr);
    const hostLinks = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').map((l) => l.split(':')[1]?.trim()).filter(Boolean);
    for (const name of hostLinks.filter((n) => n === 'lo' || n === 'eth0')) assert.match(host.stdout, new RegExp(`: ${name}[:@]`));
  });
});
