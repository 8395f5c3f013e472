// berth build and berth network against the docker CLI on the same daemon.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requires } from '../support/requirements.js';
import { CliTestEnv } from './support/harness.js';

const skip = requires('root', 'docker');

describe('berth build and network match the docker CLI', { skip }, () => {
  const env = new CliTestEnv();
  before(async () => { await env.start(); });
  after(async () => {
    const images = await env.docker(['images', '-q', '--filter', `reference=berth-cli-${env.token}*`]);
    const ids = [...new Set(images.stdout.split('\n').filter(Boolean))];
    if (ids.length > 0) await env.docker(['rmi', '-f', ...ids]);
    await env.docker(['network', 'rm', `berth-cli-${env.token}-net`]);
    await env.stop();
    assert.deepEqual(await env.leakedMounts(), []);
    assert.deepEqual(await env.leakedProcesses(), []);
  });

  test('build sends the context without ignored files, tags the image, fails with the step status', async () => {
    const ctx = path.join(env.root, 'context');
    await mkdir(ctx, { recursive: true });
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${env.image}\nARG GREETING\nCOPY . /ctx/\nRUN echo "$GREETING" > /greeting\nCMD ["sh", "-c", "cat /greeting; ls /ctx"]\n`);
    await writeFile(path.join(ctx, 'kept.txt'), 'kept\n');
    await writeFile(path.join(ctx, 'secret.key'), 'secret\n');
    await writeFile(path.join(ctx, '.dockerignore'), '*.key\n');
    const tag = `berth-cli-${env.token}-built:v1`;
    const built = await env.berth(['build', '--build-arg', 'GREETING=hello', '-t', tag, ctx]);
    assert.equal(built.code, 0, built.stderr);
    const run = await env.berth(['run', '--rm', ...env.label, tag]);
    assert.equal(run.stdout, 'hello\nDockerfile\nkept.txt\n');
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${env.image}\nRUN exit 3\n`);
    const failed = await env.both(['build', ctx]);
    assert.equal(failed.berth.code, failed.docker.code);
    assert.equal(failed.berth.stderr.trim().split('\n').pop(), failed.docker.stderr.trim().split('\n').pop());
    const missing = await env.berth(['build', path.join(env.root, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /unable to prepare context: path ".*nope" not found/);
  });

  test('network create, ls, inspect, rm', async () => {
    const name = `berth-cli-${env.token}-net`;
    const created = await env.berth(['network', 'create', '--label', 'k=v', name]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
    const ls = await env.both(['network', 'ls']);
    assert.equal(ls.berth.stdout, ls.docker.stdout);
    const fmt = await env.both(['network', 'ls', '--filter', `name=${name}`, '--format', '{{.Name}} {{.Driver}} {{.Labels}}']);
    assert.equal(fmt.berth.stdout, `${name} bridge k=v\n`);
    assert.equal(fmt.berth.stdout, fmt.docker.stdout);
    const inspect = await env.both(['network', 'inspect', name]);
    assert.equal(inspect.berth.stdout, inspect.docker.stdout);
    const removed = await env.berth(['network', 'rm', name]);
    assert.equal(removed.stdout, `${name}\n`);
    const gone = await env.both(['network', 'inspect', name]);
    assert.equal(gone.berth.code, gone.docker.code);
    assert.equal(gone.berth.stdout, gone.docker.stdout);
  });
});
