// --cache-from with an image pulled into an empty store: a second berthd that never built
// the Dockerfile reuses every step of the pulled image (berth build), and docker build
// against it does too; a changed step misses from there on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { berthCommand, execFile } from '../cli/support/harness.js';
import { retireBerthd, docker, dockerOk, importBusybox, startBerthd, type Berthd } from '../api/harness.js';

const skip = requires('root', 'docker', 'overlay', 'registry');

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startRegistry(dir: string): Promise<{ host: string; process: ChildProcess }> {
  const port = await freePort();
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `127.0.0.1:${port}`, process: child };
}

async function berth(daemon: Berthd, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file = '', ...rest] = berthCommand();
  return await execFile(file, [...rest, ...args], { env: { ...daemon.env, BERTH_HOST: `unix://${daemon.socket}` } });
}

test('--cache-from reuses a pulled image in an empty store, through berth build and docker build', { skip, timeout: 120_000 }, async () => {
  const first = await startBerthd();
  let second: Berthd | undefined;
  const registry = await startRegistry(path.join(first.dir, 'registry'));
  try {
    const repo = `${registry.host}/berth-cachefrom-${first.token}`;
    await importBusybox(first);
    await dockerOk(first, ['tag', 'busybox:latest', `${repo}/base:v1`]);
    await dockerOk(first, ['push', `${repo}/base:v1`]);
    const ctx = path.join(first.dir, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(path.join(ctx, 'data.txt'), 'data\n');
    const dockerfile = `FROM ${repo}/base:v1\nENV MODE=test\nCOPY data.txt /data.txt\nRUN echo ran-${first.token} > /ran\nCMD ["cat", "/ran"]\n`;
    await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
    const built = await berth(first, ['build', '-q', '-t', `${repo}/app:v1`, ctx]);
    assert.equal(built.code, 0, built.stderr);
    const appId = built.stdout.trim();
    await dockerOk(first, ['push', `${repo}/app:v1`]);

    second = await startBerthd();
    await dockerOk(second, ['pull', `${repo}/base:v1`]);
    await dockerOk(second, ['pull', `${repo}/app:v1`]);
    const reused = await berth(second, ['build', '--cache-from', `${repo}/app:v1`, '-t', `berth-cachefrom-${first.token}:again`, ctx]);
    assert.equal(reused.code, 0, reused.stderr);
    assert.equal(reused.stdout.match(/ ---> Using cache/g)?.length, 4, reused.stdout);
    assert.doesNotMatch(reused.stdout, /Running in/);
    assert.match(reused.stdout, new RegExp(`Successfully built ${appId.slice(7, 19)}`), 'the last step is the pulled image');

    await writeFile(path.join(ctx, 'Dockerfile'), dockerfile.replace('CMD ["cat", "/ran"]', 'RUN echo changed > /changed'));
    const changed = await docker({ ...second, env: { ...second.env, DOCKER_BUILDKIT: '0' } }, ['build', '--cache-from', `${repo}/app:v1`, ctx]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout.match(/ ---> Using cache/g)?.length, 3, changed.stdout);
    assert.equal(changed.stdout.match(/Running in/g)?.length, 1, changed.stdout);
    const id = /Successfully built ([0-9a-f]{12})/.exec(changed.stdout)?.[1] ?? '';
    assert.equal(await dockerOk(second, ['run', '--rm', id, 'cat', '/ran', '/data.txt']), `ran-${first.token}\ndata`, 'the restored layers are the pulled ones');
  } finally {
    registry.process.kill('SIGTERM');
    for (const daemon of [first, second]) {
      if (!daemon) continue;
      const leaks = await retireBerthd(daemon);
      assert.deepEqual(leaks, []);
    }
  }
});
