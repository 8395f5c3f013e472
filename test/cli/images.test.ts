// berth and the docker CLI against the same daemon: image verbs, archives and a registry
// round trip must print the same tables and lines and exit with the same codes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requires } from '../support/requirements.js';
import { CliTestEnv, tableCells } from './support/harness.js';

const skip = requires('root', 'docker');

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('berth image commands match the docker CLI', { skip }, () => {
  const env = new CliTestEnv();
  const tagged = (name: string): string => `berth-cli-${env.token}-${name}`;
  before(async () => { await env.start(); });
  after(async () => {
    const images = await env.docker(['images', '-q', '--filter', `reference=berth-cli-${env.token}*`]);
    const ids = [...new Set(images.stdout.split('\n').filter(Boolean))];
    if (ids.length > 0) await env.docker(['rmi', '-f', ...ids]);
    await env.stop();
    assert.deepEqual(await env.leakedMounts(), []);
    assert.deepEqual(await env.leakedProcesses(), []);
  });

  test('images: same table, formats, quiet and filters', async () => {
    const table = await env.both(['images', env.image]);
    assert.equal(table.berth.code, 0, table.berth.stderr);
    assert.deepEqual(tableCells(table.berth.stdout), tableCells(table.docker.stdout));
    for (const format of ['{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}', 'table {{.Repository}}\\t{{.Size}}', '{{json .}}']) {
      const out = await env.both(['images', '--format', format, env.image]);
      const clockless = (text: string): string => text.replace(/"CreatedSince":"[^"]*"/, '');
      assert.equal(clockless(out.berth.stdout), clockless(out.docker.stdout), format);
    }
    const quiet = await env.both(['image', 'ls', '-q', '--no-trunc', env.image]);
    assert.match(quiet.berth.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(quiet.berth.stdout, quiet.docker.stdout);
  });

  test('tag, history, rmi print what docker prints', async () => {
    const target = `${tagged('tag')}:v1`;
    const tag = await env.berth(['tag', env.image, target]);
    assert.equal(tag.code, 0, tag.stderr);
    const history = await env.both(['history', target]);
    assert.deepEqual(tableCells(history.berth.stdout), tableCells(history.docker.stdout));
    const historyFmt = await env.both(['image', 'history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', target]);
    assert.equal(historyFmt.berth.stdout, historyFmt.docker.stdout);
    const rmi = await env.berth(['rmi', target]);
    assert.equal(rmi.stdout, `Untagged: ${target}\n`);
    const again = await env.both(['rmi', target]);
    assert.equal(again.berth.code, 1);
    assert.equal(again.berth.code, again.docker.code);
    assert.equal(again.berth.stderr, `Error response from daemon: No such image: ${target}\n`, 'dockerd\'s wording');
    assert.equal(env.asDockerPrints(again.berth.stderr, 'rmi'), again.docker.stderr);
    const untagged = await env.both(['rmi', tagged('never')]);
    assert.equal(untagged.berth.stderr, `Error response from daemon: No such image: ${tagged('never')}:latest\n`, 'the default tag named');
    const bad = await env.both(['tag', env.image, 'Bad:Name']);
    assert.equal(bad.berth.code, bad.docker.code);
  });

  test('save, load and import round trip', async () => {
    const dir = path.join(env.root, 'archives');
    await mkdir(dir, { recursive: true });
    const target = `${tagged('saved')}:v1`;
    await env.berth(['tag', env.image, target]);
    const saved = await env.berth(['save', '-o', path.join(dir, 'img.tar'), target]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.ok((await stat(path.join(dir, 'img.tar'))).size > 1_000_000);
    await env.berth(['rmi', target]);
    const loaded = await env.berth(['load', '-i', path.join(dir, 'img.tar')]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout, `Loaded image: ${target}\n`);
    const piped = await env.berth(['image', 'save', target]);
    assert.ok(piped.stdout.length > 1_000_000);
    const imported = await env.berth(['import', '-m', 'from berth', '-c', 'ENV X=1', path.join(env.root, 'rootfs.tar'), `${tagged('imported')}:v1`]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const env1 = await env.docker(['inspect', '-f', '{{.Config.Env}} {{.Comment}}', `${tagged('imported')}:v1`]);
    assert.equal(env1.stdout, '[X=1] from berth\n');
    const missing = await env.both(['load', '-i', path.join(dir, 'nope.tar')]);
    assert.equal(missing.berth.code, 1);
  });

  test('commit makes an image from a container', async () => {
    const name = `commit-${env.token}`;
    assert.equal((await env.berth(['run', ...env.label, '--name', name, env.image, 'sh', '-c', 'echo data > /committed'])).code, 0);
    try {
      const committed = await env.berth(['commit', '-m', 'msg', '-c', 'CMD ["cat", "/committed"]', name, `${tagged('commit')}:v1`]);
      assert.equal(committed.code, 0, committed.stderr);
      assert.match(committed.stdout, /^sha256:[0-9a-f]{64}\n$/);
      const run = await env.berth(['run', '--rm', ...env.label, `${tagged('commit')}:v1`]);
      assert.equal(run.stdout, 'data\n');
    } finally {
      await env.docker(['rm', '-f', name]);
    }
  });

  test('push and pull through a local registry print docker lines', { skip: requires('registry') }, async () => {
    const port = await freePort();
    const regDir = path.join(env.root, 'registry');
    await mkdir(regDir, { recursive: true });
    await writeFile(path.join(regDir, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${regDir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    const registry = spawn('/usr/bin/docker-registry', ['serve', path.join(regDir, 'config.yml')], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((resolve) => { const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); }); s.on('error', () => resolve(false)); });
        if (ok) break;
        await sleep(100);
      }
      const remote = `127.0.0.1:${port}/berth-cli-${env.token}-pushed:v1`;
      await env.berth(['tag', env.image, remote]);
      const pushed = await env.berth(['push', remote]);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stdout, /^The push refers to repository \[127\.0\.0\.1:\d+\/berth-cli-[0-9a-f]+-pushed\]\n/);
      assert.match(pushed.stdout, /v1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
      await env.berth(['rmi', remote]);
      const pulled = await env.berth(['pull', remote]);
      assert.equal(pulled.code, 0, pulled.stderr);
      await env.docker(['rmi', remote]);
      const dockerPulled = await env.docker(['pull', remote]);
      assert.equal(pulled.stdout, dockerPulled.stdout);
      const missing = await env.both(['pull', `127.0.0.1:${port}/berth-cli-${env.token}-none:v1`]);
      assert.equal(missing.berth.code, 1);
      assert.equal(missing.berth.code, missing.docker.code);
      assert.equal(missing.berth.stderr, missing.docker.stderr);

      // --all-tags: push every local tag of the repository, pull every tag the registry has
      const many = `127.0.0.1:${port}/berth-cli-${env.token}-many`;
      for (const t of ['v1', 'v2']) await env.berth(['tag', env.image, `${many}:${t}`]);
      const pushedAll = await env.berth(['push', '-a', many]);
      assert.equal(pushedAll.code, 0, pushedAll.stderr);
      assert.match(pushedAll.stdout, /^v1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
      assert.match(pushedAll.stdout, /^v2: digest: sha256:[0-9a-f]{64} size: \d+$/m);
      await env.docker(['rmi', `${many}:v1`, `${many}:v2`]);
      const pulledAll = await env.berth(['pull', '-a', many]);
      assert.equal(pulledAll.code, 0, pulledAll.stderr);
      assert.match(pulledAll.stdout, new RegExp(`Status: Downloaded newer image for ${many.replace(/\./g, '\\.')}\n${many.replace(/\./g, '\\.')}\n$`));
      const tags = await env.docker(['images', '--format', '{{.Tag}}', many]);
      assert.deepEqual(tags.stdout.split('\n').filter(Boolean).sort(), ['v1', 'v2']);
      const withTag = await env.both(['pull', '-a', `${many}:v1`]);
      assert.equal(withTag.berth.code, withTag.docker.code);
      assert.equal(withTag.berth.stderr, withTag.docker.stderr);
      await env.docker(['rmi', `${many}:v1`, `${many}:v2`]);
    } finally {
      registry.kill('SIGTERM');
      await new Promise((resolve) => registry.once('exit', resolve));
    }
  });

  test('login stores credentials where docker reads them; logout removes them', async () => {
    const cfg = path.join(env.root, 'config', 'config.json');
    const out = await env.berth(['logout', 'registry.invalid']);
    assert.equal(out.stdout, 'Not logged in to registry.invalid\n');
    const noUser = await env.berth(['login', '--password-stdin', 'registry.invalid'], { input: 'pw\n' });
    assert.equal(noUser.code, 1);
    assert.match(noUser.stderr, /Must provide --username with --password-stdin/);
    await mkdir(path.dirname(cfg), { recursive: true });
    await writeFile(cfg, JSON.stringify({ auths: { 'registry.invalid': { auth: Buffer.from('u:p').toString('base64') } } }));
    const loggedOut = await env.berth(['logout', 'registry.invalid']);
    assert.equal(loggedOut.stdout, 'Removing login credentials for registry.invalid\n');
    assert.deepEqual(JSON.parse(await readFile(cfg, 'utf8')), { auths: {} });
  });

  test('system df and image prune', async () => {
    const df = await env.both(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}']);
    assert.equal(df.berth.stdout, df.docker.stdout);
    const prune = await env.both(['image', 'prune', '-f', '--filter', 'label=berth-cli-none=1']);
    assert.equal(prune.berth.stdout, prune.docker.stdout);
  });
});
