// Networking through a private berthd and the docker CLI: UDP publishing from
// the host and from a remote client, legacy --link (hosts entries and env), network connect and
// disconnect of running and stopped containers (/etc/hosts, 127.0.0.11 names, --ip, --alias).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { requires } from '../support/requirements.js';
import { docker, dockerOk, useBerthdWithBusybox, type Berthd } from '../api/harness.js';
import { freePort, makeClientHost, runInNetns, spawnInNetns, udpEchoClientArgv, waitForListener } from './support.js';
import dgram from 'node:dgram';

const skip = requires('root', 'docker');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

async function udpRoundTrip(host: string, port: number, text: string): Promise<string> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no udp reply from ${host}:${port}`)), 3000);
      socket.on('message', (m) => { clearTimeout(timer); resolve(m.toString()); });
      socket.send(text, port, host);
    });
  } finally {
    socket.close();
  }
}

// Debian's static busybox has no `nc -u` (nor udpsvd): the UDP echo server runs in the container's
// network namespace (nsenter), which is all publishing involves; rules and ports are berthd's.
test('-p HOST:53/udp: a UDP server in the container answers the host at 127.0.0.1 and a remote client', { skip, timeout: 60_000 }, async () => {
  const [local, remote] = [await freePort(), await freePort()];
  const id = await dockerOk(daemon, ['run', '-d', '-p', `${local}:53/udp`, '-p', `${remote}:54/udp`, 'busybox', 'sleep', '300']);
  const pid = await dockerOk(daemon, ['inspect', '-f', '{{.State.Pid}}', id]);
  const netns = `/proc/${pid}/ns/net`;
  const server = spawnInNetns(netns, [process.execPath, '-e',
    "for(const p of [53,54]){const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(p)}"]);
  const client = await makeClientHost(daemon.token.slice(0, 4), daemon.dir, 46);
  try {
    await waitForListener(netns, 54, 'udp');
    assert.match(await dockerOk(daemon, ['port', id, '53/udp']), new RegExp(`0\\.0\\.0\\.0:${local}$`, 'm'));
    assert.equal(await udpRoundTrip('127.0.0.1', local, 'udp-local\n'), 'udp-local\n');
    const answer = await runInNetns(client.netns, udpEchoClientArgv(client.hostIp, remote, 'udp-remote'));
    assert.equal(answer.stdout, 'udp-remote', answer.stderr);
    // the remote client's address arrives unchanged (no masquerade on the way in)
    const inspect = await dockerOk(daemon, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id]);
    assert.match(inspect, /^\d+\.\d+\.\d+\.\d+$/);
  } finally {
    server.kill('SIGKILL');
    await client.destroy();
    await dockerOk(daemon, ['rm', '-f', id]);
  }
});

test('--link name:alias on the default bridge: hosts entry and the env docker sets', { skip, timeout: 60_000 }, async () => {
  const db = `db-${daemon.token}`;
  await dockerOk(daemon, ['run', '-d', '--name', db, '--hostname', 'dbhost', '-e', 'SECRET=s3', '--expose', '5432', '--expose', '53/udp', 'busybox', 'sleep', '300']);
  try {
    const ip = await dockerOk(daemon, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', db]);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const out = await dockerOk(daemon, ['run', '--rm', '--name', `app-${daemon.token}`, '--link', `${db}:my-db`, 'busybox', 'sh', '-c',
      'cat /etc/hosts; env; ping -c 1 -W 2 my-db >/dev/null && echo PING-OK']);
    const ipRe = ip.replace(/\./g, '\\.');
    assert.match(out, new RegExp(`^${ipRe}\\tmy-db dbhost ${db}$`, 'm'));
    assert.match(out, new RegExp(`^MY_DB_PORT=udp://${ipRe}:53$`, 'm'));
    assert.match(out, new RegExp(`^MY_DB_PORT_5432_TCP=tcp://${ipRe}:5432$`, 'm'));
    assert.match(out, new RegExp(`^MY_DB_PORT_5432_TCP_ADDR=${ipRe}$`, 'm'));
    assert.match(out, /^MY_DB_PORT_5432_TCP_PORT=5432$/m);
    assert.match(out, /^MY_DB_PORT_53_UDP_PROTO=udp$/m);
    assert.match(out, new RegExp(`^MY_DB_NAME=/app-${daemon.token}/my-db$`, 'm'));
    assert.match(out, /^MY_DB_ENV_SECRET=s3$/m);
    assert.doesNotMatch(out, /^MY_DB_ENV_PATH=/m);
    assert.match(out, /^PING-OK$/m);
    await dockerOk(daemon, ['stop', '-t', '0', db]);
    const stopped = await docker(daemon, ['run', '--rm', '--link', `${db}:my-db`, 'busybox', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /non running container/);
  } finally {
    await dockerOk(daemon, ['rm', '-f', db]);
  }
});

test('network connect/disconnect: /etc/hosts, 127.0.0.11 names, --ip and --alias; a stopped container joins at start', { skip, timeout: 60_000 }, async () => {
  const net = `net-${daemon.token}`;
  const subnet = `10.${randomInt(100, 250)}.${randomInt(0, 250)}`;
  await dockerOk(daemon, ['network', 'create', '--subnet', `${subnet}.0/24`, net]);
  const [app, peer, later] = ['app', 'peer', 'later'].map((n) => `${n}-${daemon.token}`) as [string, string, string];
  try {
    await dockerOk(daemon, ['run', '-d', '--name', app, '--hostname', 'apphost', 'busybox', 'sleep', '300']);
    await dockerOk(daemon, ['run', '-d', '--name', peer, '--network', net, '--network-alias', 'peeralias', 'busybox', 'sleep', '300']);
    const peerIp = await dockerOk(daemon, ['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, peer]);
    assert.match(await dockerOk(daemon, ['exec', peer, 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);

    await dockerOk(daemon, ['network', 'connect', '--ip', `${subnet}.50`, '--alias', 'appalias', net, app]);
    assert.match(await dockerOk(daemon, ['exec', app, 'cat', '/etc/hosts']), new RegExp(`^${subnet.replace(/\./g, '\\.')}\\.50\\tapphost$`, 'm'));
    assert.match(await dockerOk(daemon, ['exec', app, 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
    assert.match(await dockerOk(daemon, ['exec', app, 'nslookup', 'peeralias']), new RegExp(peerIp.replace(/\./g, '\\.')));
    assert.match(await dockerOk(daemon, ['exec', peer, 'nslookup', 'appalias']), new RegExp(`${subnet.replace(/\./g, '\\.')}\\.50`));
    const networks = JSON.parse(await dockerOk(daemon, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', app])) as Record<string, { IPAddress: string }>;
    assert.deepEqual(Object.keys(networks).sort(), ['bridge', net].sort());
    assert.equal(networks[net]?.IPAddress, `${subnet}.50`);
    const dup = await docker(daemon, ['network', 'connect', net, app]);
    assert.match(dup.stderr, /already exists in network/);

    await dockerOk(daemon, ['network', 'disconnect', net, app]);
    assert.doesNotMatch(await dockerOk(daemon, ['exec', app, 'cat', '/etc/hosts']), new RegExp(`${subnet.replace(/\./g, '\\.')}\\.50`));
    const gone = await docker(daemon, ['exec', peer, 'nslookup', 'appalias']);
    assert.doesNotMatch(gone.stdout, new RegExp(`${subnet.replace(/\./g, '\\.')}\\.50`));
    assert.doesNotMatch(await dockerOk(daemon, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', app]), new RegExp(net));

    // connected while stopped: the network is joined at the next start
    await dockerOk(daemon, ['create', '--name', later, 'busybox', 'sleep', '300']);
    await dockerOk(daemon, ['network', 'connect', '--alias', 'lateralias', net, later]);
    await dockerOk(daemon, ['start', later]);
    assert.match(await dockerOk(daemon, ['exec', later, 'ip', '-o', '-4', 'addr']), new RegExp(`inet ${subnet.replace(/\./g, '\\.')}\\.`));
    // on the default bridge and a user network: the embedded DNS, as docker starts its resolver
    assert.match(await dockerOk(daemon, ['exec', later, 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
    assert.match(await dockerOk(daemon, ['exec', later, 'nslookup', 'peeralias']), new RegExp(peerIp.replace(/\./g, '\\.')));
    const late = await docker(daemon, ['exec', peer, 'nslookup', 'lateralias']);
    assert.match(late.stdout, new RegExp(`${subnet.replace(/\./g, '\\.')}\\.`), late.stdout + late.stderr);
  } finally {
    await docker(daemon, ['rm', '-f', app, peer, later]);
    await dockerOk(daemon, ['network', 'rm', net]);
  }
});
