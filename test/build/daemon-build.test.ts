// Builds through a private berthd with the docker CLI (DOCKER_BUILDKIT=0) and berth build:
// the network RUN steps get, and parallel stages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { cleanupBerthd, docker, dockerOk, findLeaks, importBusybox, removeDir, startBerthd, stopBerthd, type Berthd } from '../api/harness.js';

const skip = requires('root', 'docker', 'overlay');
let daemon: Berthd | undefined;

before(async () => {
  if (skip) return;
  daemon = await startBerthd();
  await importBusybox(daemon);
});

after(async () => {
  if (!daemon) return;
  await stopBerthd(daemon);
  await cleanupBerthd(daemon);
  const leaks = await findLeaks(daemon);
  await removeDir(daemon);
  assert.deepEqual(leaks, []);
});

function need(): Berthd {
  if (!daemon) throw new Error('berthd did not start');
  return daemon;
}

/** A context directory with these files. */
async function contextDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(need().dir, 'ctx-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

async function classicBuild(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const d = need();
  return await docker({ ...d, env: { ...d.env, DOCKER_BUILDKIT: '0' } }, ['build', ...args]);
}

test('RUN reaches a server on the default bridge gateway; --network none cannot', { skip, timeout: 60_000 }, async () => {
  const d = need();
  const gateway = await dockerOk(d, ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}']);
  assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/);
  const server: Server = createServer((socket) => socket.end(`berth-hello-${d.token}\n`));
  await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const ctx = await contextDir({ Dockerfile: `FROM busybox\nRUN nc -w 5 ${gateway} ${port} > /got && cat /got && ip -4 addr show eth0\n` });
    const built = await classicBuild(['-t', `berth-net-${d.token}`, ctx]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.match(built.stdout, new RegExp(`berth-hello-${d.token}`));
    const stepAddress = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(built.stdout)?.[1] ?? '';
    assert.equal(stepAddress.split('.').slice(0, 2).join('.'), gateway.split('.').slice(0, 2).join('.'), 'the step had its own eth0 on the bridge');
    assert.notEqual(stepAddress, gateway);
    const got = await dockerOk(d, ['run', '--rm', `berth-net-${d.token}`, 'cat', '/got']);
    assert.equal(got, `berth-hello-${d.token}`);

    const none = await contextDir({ Dockerfile: `FROM busybox\nRUN nc -w 3 ${gateway} ${port} > /got && grep berth-hello /got\n` });
    const refused = await classicBuild(['--network', 'none', '--no-cache', none]);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stdout + refused.stderr, /returned a non-zero code/);
    await dockerOk(d, ['rmi', `berth-net-${d.token}`]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('two independent stages run their RUN steps at the same time', { skip, timeout: 60_000 }, async () => {
  const d = need();
  const gateway = await dockerOk(d, ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}']);
  // a rendezvous: nobody gets an answer until both stages are connected, so one-by-one stages would time out
  const waiting: Array<import('node:net').Socket> = [];
  const server: Server = createServer((socket) => {
    socket.resume();
    socket.on('error', () => undefined);
    waiting.push(socket);
    if (waiting.length === 2) for (const s of waiting.splice(0)) s.end('go\n');
  });
  await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    // busybox nc quits at the end of its stdin, so it gets an endless one to wait for the answer
    const stage = (name: string): string => `FROM busybox AS ${name}\nRUN nc -w 20 ${gateway} ${port} < /dev/zero > /${name}; grep go /${name}`;
    const ctx = await contextDir({
      Dockerfile: [stage('left'), stage('right'), 'FROM busybox', 'COPY --from=left /left /left', 'COPY --from=right /right /right'].join('\n'),
    });
    const built = await classicBuild(['--no-cache', '-t', `berth-par-${d.token}`, ctx]);
    assert.equal(built.code, 0, built.stderr + built.stdout);
    assert.equal(await dockerOk(d, ['run', '--rm', `berth-par-${d.token}`, 'cat', '/left', '/right']), 'go\ngo');
    await dockerOk(d, ['rmi', `berth-par-${d.token}`]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('stopping berthd during a RUN ends the step and leaves nothing behind', { skip, timeout: 60_000 }, async () => {
  const own = await startBerthd();
  try {
    await importBusybox(own);
    const ctx = await mkdtemp(path.join(own.dir, 'ctx-'));
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM busybox\nRUN echo started-${own.token} && sleep 50\n`);
    const { spawn } = await import('node:child_process');
    const client = spawn('docker', ['build', ctx], { env: { ...own.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const clientDone = new Promise((resolve) => client.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      client.stdout.on('data', (c: Buffer) => { out += c.toString(); if (out.includes(`\nstarted-${own.token}\n`)) resolve(); });
      client.once('close', () => reject(new Error(`build ended before its RUN started: ${out}`)));
    });
    await stopBerthd(own);
    await clientDone;
    await cleanupBerthd(own);
    assert.deepEqual(await findLeaks(own), []);
  } finally {
    await stopBerthd(own, 'SIGKILL');
    await removeDir(own);
  }
});
