// Rootless networking end to end: the test user's berthd keeps its bridge networks in one
// rootless netns (connected outside by one pasta). Two containers on a user-defined network
// reach each other by name (embedded DNS) and address, two on the default bridge by address;
// a published port is reached from the host's loopback and from a client in another network
// namespace, whose address the container sees; a container reaches that client (out through
// pasta). Nothing of it appears in the host's network
// namespace (no bridge, veth or nftables table), and after berthd stops no process, mount or
// namespace file of the user is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { instanceFromDataRoot, instanceNames } from '../../src/network/names.js';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { freePort } from '../registry/support/registry-server.js';
import { rootlessSkipReason, createTestUser, openTunDevice, processesLeftOf, mountsUnder, startRootlessBerthd, type RootlessDaemon } from './support.js';

const run = promisify(execFile);

async function docker(daemon: RootlessDaemon, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('docker', args, { env: daemon.env, maxBuffer: 16 << 20, timeout: 30_000 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${e.stderr ?? e.message}${e.stdout ? `\nstdout: ${e.stdout}` : ''}\n--- berthd log tail ---\n${daemon.log().split('\n').slice(-15).join('\n')}`);
  }
}

/** what a tcp server answered, retried until `pattern` shows (a fresh listener may not be up yet) */
async function answerOf(argv: string[], pattern: RegExp): Promise<string> {
  let answer = '';
  for (let i = 0; i < 20 && !pattern.test(answer); i++) {
    answer = (await run(argv[0] ?? 'nc', argv.slice(1), { timeout: 10_000 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))).stdout;
    if (!pattern.test(answer)) await new Promise((r) => setTimeout(r, 250));
  }
  return answer;
}

/** the peer addresses in a container's `netstat -tn` (IPv4-mapped addresses made plain) */
function peersSeen(netstat: string): string[] {
  // earlier connections linger in TIME_WAIT
  return netstat.split('\n').filter((l) => /^tcp/.test(l) && /:80\s/.test(l) && !/TIME_WAIT/.test(l))
    .map((l) => (l.trim().split(/\s+/)[4] ?? '').replace(/^::ffff:/, '').replace(/:\d+$/, ''));
}

async function hostLinks(): Promise<string[]> {
  const parsed = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname?: unknown }>;
  return parsed.map((l) => String(l.ifname));
}

test('rootless networks: containers reach each other by name and address, published ports keep the client address, nothing on the host', { skip: rootlessSkipReason('docker', 'overlay'), timeout: 90_000 }, async () => {
  const token = randomBytes(3).toString('hex');
  const user = await createTestUser(token);
  const restoreTun = await openTunDevice();
  const clientNs = `berth-rln-${token}`;
  const clientLink = `brln${token}`;
  let daemon: RootlessDaemon | undefined;
  try {
    daemon = await startRootlessBerthd(user);
    const rootfs = await makeBusyboxRootfs(path.join(user.dir, 'rootfs'), { probe: false });
    await run('tar', ['-C', rootfs, '-cf', path.join(user.dir, 'busybox.tar'), '.']);
    const image = `rootless-net-${token}:1`;
    await docker(daemon, ['import', path.join(user.dir, 'busybox.tar'), image]);

    // a user-defined network: by name through the embedded DNS, and by address
    const network = `berth-rl-${token}`;
    await docker(daemon, ['network', 'create', network]);
    const port = await freePort();
    const server = `srv-${token}`;
    await docker(daemon, ['run', '-d', '--name', server, '--network', network, '-p', `${port}:80`, image, 'nc', '-ll', '-p', '80', '-e', 'netstat', '-tn']);
    const serverIp = await docker(daemon, ['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, server]);
    const gateway = await docker(daemon, ['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").Gateway}}`, server]);
    assert.match(serverIp, /^\d+\.\d+\.\d+\.\d+$/);
    const fromPeer = await docker(daemon, ['run', '--rm', '--network', network, image, 'sh', '-c',
      `nslookup ${server} 127.0.0.11; ping -c 1 -W 3 ${server} >/dev/null && echo ping-ok; for i in 1 2 3 4 5; do nc -w 3 ${server} 80 && break; sleep 0.3; done; hostname -i`]);
    assert.match(fromPeer, new RegExp(`Address( 1)?:\\s+${serverIp.replace(/\./g, '\\.')}`), `the embedded DNS answers the container's name:\n${fromPeer}`);
    assert.match(fromPeer, /ping-ok/, 'ping by name');
    const peerIp = fromPeer.split('\n').at(-1)?.trim() ?? '';
    assert.deepEqual(peersSeen(fromPeer), [peerIp], `tcp by name, the peer's own address seen:\n${fromPeer}`);

    // the default bridge: by address
    const bridged = await docker(daemon, ['run', '-d', image, 'sleep', '60']);
    const bridgedIp = await docker(daemon, ['inspect', '--format', '{{.NetworkSettings.IPAddress}}', bridged]);
    assert.match(await docker(daemon, ['run', '--rm', image, 'sh', '-c', `ping -c 1 -W 3 ${bridgedIp} >/dev/null && echo ping-ok`]), /ping-ok/);

    // nothing of it in the host's network namespace
    const names = instanceNames(instanceFromDataRoot(path.join(user.home, '.local/share/berth')));
    const ours = (await hostLinks()).filter((l) => l.startsWith(names.bridgePrefix) || l.startsWith(names.vethPrefix));
    assert.deepEqual(ours, [], 'no bridge or veth of the rootless daemon on the host');
    assert.doesNotMatch((await run('nft', ['list', 'tables'])).stdout, new RegExp(names.table), 'no nftables table on the host');

    // the published port from the host's loopback: the container sees its network's gateway
    const viaLoopback = await answerOf(['nc', '-w', '3', '127.0.0.1', String(port)], /:80\s/);
    assert.deepEqual(peersSeen(viaLoopback), [gateway], `loopback client:\n${viaLoopback}`);
    // from another namespace through a veth: the container sees the client's own address
    await run('ip', ['netns', 'add', clientNs]);
    await run('ip', ['link', 'add', clientLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs]);
    await run('ip', ['addr', 'add', '10.231.9.1/30', 'dev', clientLink]);
    await run('ip', ['link', 'set', clientLink, 'up']);
    await run('ip', ['-n', clientNs, 'addr', 'add', '10.231.9.2/30', 'dev', 'eth0']);
    await run('ip', ['-n', clientNs, 'link', 'set', 'eth0', 'up']);
    const remote = await answerOf(['ip', 'netns', 'exec', clientNs, 'nc', '-w', '3', '10.231.9.1', String(port)], /:80\s/);
    assert.deepEqual(peersSeen(remote), ['10.231.9.2'], `the client's address is kept:\n${remote}`);
    // and out through the rootless netns' pasta: a container reaches that client
    const outside = spawn('ip', ['netns', 'exec', clientNs, '/bin/busybox', 'nc', '-l', '-p', '7777', '-e', 'echo', 'outside-ok'], { stdio: 'ignore' });
    try {
      const reached = await docker(daemon, ['run', '--rm', '--network', network, image, 'sh', '-c',
        // bounded inside: `docker run` forwards a timeout's SIGTERM to sh, which ignores it as pid 1
        'for i in 1 2 3 4 5 6; do out=$(timeout 4 nc 10.231.9.2 7777); case "$out" in *outside-ok*) echo "$out"; break;; esac; sleep 0.3; done']);
      assert.match(reached, /outside-ok/, 'outbound connections leave through pasta');
    } finally {
      outside.kill();
    }
    const forwarding = await docker(daemon, ['network', 'inspect', '--format', '{{index .Options "berth.port-forwarding"}}', network]);
    assert.match(forwarding, /^rootless-relay: .*containers see the client's address/);

    await docker(daemon, ['rm', '-f', server, bridged]);
    await docker(daemon, ['network', 'rm', network]);
    assert.equal(await daemon.stop(), 0);
    daemon = undefined;
    const left = await processesLeftOf(user.uid);
    assert.deepEqual(left, [], 'no process of the user is left (daemon, containers, pasta)');
    assert.equal(existsSync(path.join(user.runtimeDir, 'berth', 'rootless-netns', 'netns')), false, 'the rootless netns file is removed');
    const mounts = await mountsUnder(user.dir);
    assert.deepEqual(mounts, [], 'no mount of the daemon reached the host');
  } finally {
    if (daemon) await daemon.stop();
    await run('ip', ['link', 'del', clientLink]).catch(() => undefined);
    await run('ip', ['netns', 'del', clientNs]).catch(() => undefined);
    await restoreTun();
    await rm(path.join(user.home, '.local'), { recursive: true, force: true }).catch(() => undefined);
    await user.remove();
  }
});
