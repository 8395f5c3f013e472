// Builds through a private berthd with the docker CLI (DOCKER_BUILDKIT=0) and berth build:
// the network RUN steps get, parallel stages, a stop during a build, and remote contexts
// (a tarball or a Dockerfile over HTTP, a git repository over git's dumb HTTP, stdin).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { berthCommand, execFile } from '../cli/support/harness.js';
import { retireBerthd, cleanupBerthd, docker, dockerOk, findLeaks, importBusybox, removeDir, startBerthd, stopBerthd, type Berthd } from '../api/harness.js';

const skip = requires('root', 'docker', 'overlay');
let daemon: Berthd | undefined;

before(async () => {
  if (skip) return;
  daemon = await startBerthd();
  await importBusybox(daemon);
});

after(async () => {
  if (!daemon) return;
  const leaks = await retireBerthd(daemon);
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

async function berth(args: string[], input?: string | Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const d = need();
  const [file = '', ...rest] = berthCommand();
  return await execFile(file, [...rest, ...args], { env: { ...d.env, BERTH_HOST: `unix://${d.socket}` }, ...(input === undefined ? {} : { input }) });
}

/** A static HTTP server over `dir` on loopback (git's dumb HTTP needs nothing more). */
async function serveDirectory(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    const file = path.join(dir, path.posix.normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    readFile(file).then((body) => { res.writeHead(200); res.end(body); }, () => { res.writeHead(404); res.end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Files served over HTTP: a context tarball, a lone Dockerfile, and a git repository (dumb HTTP). */
async function remoteFixtures(d: Berthd): Promise<{ www: string; server: { url: string; close(): Promise<void> } }> {
  const www = await mkdtemp(path.join(d.dir, 'www-'));
  const source = await contextDir({ Dockerfile: 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n', 'hello.txt': `tar-${d.token}\n` });
  execFileSync('tar', ['-czf', path.join(www, 'ctx.tar.gz'), '-C', source, '.']);
  // $((40+2)) makes the RUN's output differ from the step line that echoes the command
  await writeFile(path.join(www, 'Dockerfile'), `FROM busybox\nRUN echo plain-$((40+2))-${d.token}\n`);
  const work = await contextDir({ 'app/Dockerfile': 'FROM busybox\nCOPY msg.txt /msg.txt\nRUN cat /msg.txt\n', 'app/msg.txt': `git-${d.token}\n`, 'README': 'top\n' });
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-qm', 'one'], ['tag', 'v1']]) execFileSync('git', args, { cwd: work, env: gitEnv });
  execFileSync('git', ['clone', '-q', '--bare', work, path.join(www, 'repo.git')]);
  execFileSync('git', ['update-server-info'], { cwd: path.join(www, 'repo.git') });
  return { www, server: await serveDirectory(www) };
}

test('remote contexts: a tarball and a Dockerfile over HTTP, a git repository #ref:dir', { skip, timeout: 60_000 }, async () => {
  const d = need();
  const { server } = await remoteFixtures(d);
  const dockerEnv = { ...d, env: { ...d.env, DOCKER_BUILDKIT: '0' } };
  try {
    for (const [url, expected] of [
      [`${server.url}/ctx.tar.gz`, `\ntar-${d.token}\n`],
      [`${server.url}/Dockerfile`, `\nplain-42-${d.token}\n`],
      [`${server.url}/repo.git#v1:app`, `\ngit-${d.token}\n`],
    ] as const) {
      // berth sends remote= and berthd fetches; docker's CLI fetches or clones itself and sends a tar
      const viaBerth = await berth(['build', '--no-cache', url]);
      assert.equal(viaBerth.code, 0, `berth build ${url}: ${viaBerth.stderr}`);
      assert.ok(viaBerth.stdout.includes(expected), viaBerth.stdout);
      const viaDocker = await docker(dockerEnv, ['build', '--no-cache', url]);
      assert.equal(viaDocker.code, 0, `docker build ${url}: ${viaDocker.stderr}`);
      assert.ok(viaDocker.stdout.includes(expected), viaDocker.stdout);
    }
    const missing = await berth(['build', `${server.url}/nothing.tar`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot download the build context from http:\/\/127\.0\.0\.1:\d+\/nothing\.tar: status 404/);
    const badRef = await berth(['build', `${server.url}/repo.git#no-such-ref`]);
    assert.notEqual(badRef.code, 0);
    assert.match(badRef.stderr, /git (fetch|checkout) failed/);
  } finally {
    await server.close();
  }
});

test('build - takes a Dockerfile or a context tarball on stdin', { skip, timeout: 60_000 }, async () => {
  const d = need();
  const dockerfile = `FROM busybox\nRUN echo stdin-$((40+2))-${d.token}\n`;
  const fromStdin = await berth(['build', '--no-cache', '-'], dockerfile);
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.ok(fromStdin.stdout.includes(`\nstdin-42-${d.token}\n`), fromStdin.stdout);
  const dockerStdin = await docker({ ...d, env: { ...d.env, DOCKER_BUILDKIT: '0' } }, ['build', '--no-cache', '-'], dockerfile);
  assert.equal(dockerStdin.code, 0, dockerStdin.stderr);
  assert.ok(dockerStdin.stdout.includes(`\nstdin-42-${d.token}\n`), dockerStdin.stdout);
  const source = await contextDir({ Dockerfile: 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n', 'hello.txt': `tar-${d.token}\n` });
  const tarball = execFileSync('tar', ['-cz', '-C', source, '.']);
  const tarStdin = await berth(['build', '--no-cache', '-q', '-'], tarball);
  assert.equal(tarStdin.code, 0, tarStdin.stderr);
  const id = tarStdin.stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await dockerOk(d, ['run', '--rm', id, 'cat', '/hello.txt']), `tar-${d.token}`);
});

test('builder prune: --keep-storage drops the least recently used entries first, until= spares recent ones, -a empties', { skip, timeout: 60_000 }, async () => {
  const d = need();
  const dockerfile = (name: string): string => `FROM busybox\nRUN dd if=/dev/zero of=/${name} bs=1024 count=1024 && echo prune-${name}-${d.token}\n`;
  const older = await contextDir({ Dockerfile: dockerfile('older') });
  const newer = await contextDir({ Dockerfile: dockerfile('newer') });
  const build = async (ctx: string): Promise<string> => {
    const result = await berth(['build', ctx]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  await build(older);
  await build(newer);
  assert.match(await build(older), /Using cache/, 'using the older one makes it the most recent');

  const spared = await berth(['builder', 'prune', '-f', '-a', '--filter', 'until=1h']);
  assert.equal(spared.code, 0, spared.stderr);
  assert.match(spared.stdout, /Total reclaimed space: 0B\n$/);

  const kept = await berth(['builder', 'prune', '-f', '-a', '--keep-storage', '1500k']);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /^Deleted build cache objects:\n[0-9a-f]{64}\n/);
  assert.match(await build(older), /Using cache/, 'the most recently used entry stays');
  assert.match(await build(newer), /Running in/, 'the least recently used one went');

  const all = await docker(d, ['builder', 'prune', '-f', '-a']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /Total reclaimed space: [1-9][\d.]*[kM]B/);
  assert.match(await build(older), /Running in/, '-a removed everything');
});
