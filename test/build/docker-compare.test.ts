// The same Dockerfile through berth and through a real dockerd's classic builder
// (DOCKER_BUILDKIT=0): the image config and the history must say the same things.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { startDockerd } from '../images/dockerd.js';
import { saveImages } from '../../src/daemon/images/archive.js';
import { BuildStack } from './support.js';

const skip = requires('root', 'docker', 'overlay');

const FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'OnBuild', 'Healthcheck', 'StopSignal', 'Shell'] as const;

/** Normalise what legitimately differs: content hashes of COPY/ADD sources. */
const normalise = (createdBy: string | undefined): string => (createdBy ?? '').replace(/(file|dir|multi):[a-f0-9]{64}/g, '$1:X');

function emptyToUndefined(value: unknown): unknown {
  if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) return undefined;
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return undefined;
  return value;
}

test('config and history match dockerd\'s classic builder', { skip, timeout: 300_000 }, async () => {
  const stack = await BuildStack.start();
  const dockerd = await startDockerd();
  try {
    const saved: Buffer[] = [];
    for await (const chunk of saveImages(stack.images, [stack.base])) saved.push(chunk);
    dockerd.docker(['load'], Buffer.concat(saved));
    const dockerfile = [
      `FROM ${stack.base}`,
      'MAINTAINER someone@example.com',
      'ARG VERSION=1.0',
      'ENV APP=demo PATH_EXTRA="/opt/a b" LEGACY_UNUSED=1',
      'ENV OLD old style value',
      'LABEL version="$VERSION" description="a \\"quoted\\" label"',
      'WORKDIR /app',
      'WORKDIR sub',
      'COPY a.txt ./',
      'COPY dir /dir/',
      'COPY a.txt b.txt /multi/',
      'RUN echo $VERSION > v.txt',
      'RUN ["/bin/sh", "-c", "echo exec > e.txt"]',
      'USER nobody',
      'EXPOSE 80 443/udp 8000-8002',
      'VOLUME /data ["/logs"]',
      'VOLUME ["/v1", "/v2"]',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=30s --timeout=5s --retries=4 CMD wget -q -O- http://localhost/ || exit 1',
      'ONBUILD RUN echo child',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'SHELL ["/bin/sh", "-ec"]',
      'CMD echo shell form',
    ].join('\n');
    const files = { Dockerfile: dockerfile, 'a.txt': 'a\n', 'b.txt': 'b\n', 'dir/inner.txt': 'inner\n' };
    const ctx = path.join(stack.dir, 'docker-ctx');
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
      await writeFile(path.join(ctx, name), content);
    }
    execFileSync('docker', ['-H', dockerd.host, 'build', '--network=none', '-t', 'berth-compare:docker', '--build-arg', 'VERSION=2.0', ctx],
      { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: 'ignore' });
    const docker = JSON.parse(dockerd.docker(['image', 'inspect', 'berth-compare:docker'])) as Array<{ Config: Record<string, unknown>; Author: string }>;
    const dockerHistory = JSON.parse(dockerd.docker(['history', '--no-trunc', '--format', '{{json .}}', 'berth-compare:docker']).trim().split('\n').map((l) => l).join(',').replace(/^/, '[').replace(/$/, ']')) as Array<{ CreatedBy: string; Size: string }>;

    const ours = await stack.build(files, { buildArgs: { VERSION: '2.0' } });
    const config = await stack.images.readConfig(ours.id as never);
    for (const field of FIELDS) {
      assert.deepEqual(emptyToUndefined(config.config?.[field]), emptyToUndefined(docker[0]?.Config[field]), `Config.${field}`);
    }
    assert.equal(config.author, docker[0]?.Author);
    const theirs = dockerHistory.reverse().map((h) => normalise(h.CreatedBy));
    const mine = (config.history ?? []).map((h) => normalise(h.created_by));
    assert.deepEqual(mine.slice(1), theirs.slice(1));

    // a child of that image (its ONBUILD trigger runs) and a multi-stage COPY --from
    const child = [
      'FROM berth-compare:parent AS builder',
      'RUN echo made > /tmp/made.txt',
      `FROM ${stack.base}`,
      'COPY --from=builder /tmp/made.txt /copied.txt',
      'COPY --from=builder --chown=1:1 /tmp/made.txt /owned.txt',
      'CMD ["cat", "/copied.txt"]',
    ].join('\n');
    await stack.images.tag(ours.id, 'berth-compare:parent');
    dockerd.docker(['tag', 'berth-compare:docker', 'berth-compare:parent']);
    await writeFile(path.join(ctx, 'Dockerfile'), child);
    const dockerHistoryOf = (name: string): string[] =>
      (JSON.parse(`[${dockerd.docker(['history', '--no-trunc', '--format', '{{json .}}', name]).trim().split('\n').join(',')}]`) as Array<{ CreatedBy: string }>)
        .reverse().map((h) => normalise(h.CreatedBy));
    for (const target of ['builder', '']) {
      execFileSync('docker', ['-H', dockerd.host, 'build', '--network=none', ...(target ? ['--target', target] : []), '-t', 'berth-compare:child', ctx],
        { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: 'ignore' });
      const ourChild = await stack.build({ ...files, Dockerfile: child }, target ? { target } : {});
      const childConfig = await stack.images.readConfig(ourChild.id as never);
      assert.deepEqual((childConfig.history ?? []).map((h) => normalise(h.created_by)).slice(1), dockerHistoryOf('berth-compare:child').slice(1), `target ${target || '(last)'}`);
      assert.deepEqual(emptyToUndefined(childConfig.config?.OnBuild), undefined);
    }
    assert.deepEqual(await stack.leaks(), []);
  } finally {
    await dockerd.stop();
    await stack.close();
  }
});
