// dockerode against berthd for the rest of the docker verbs the issue lists: run -d, stop,
// kill, restart, top, stats, archive both ways, wait, rename, pause/unpause, commit, export,
// image list/tag/remove, pull/push through a loopback registry, save/load, system df, info,
// events. Each result is checked the way a dockerode user would read it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { requires } from '../support/requirements.js';
import { useBerthdWithBusybox, type Berthd } from './harness.js';
import { startRegistry } from './registry.js';

const run = promisify(execFile);
const skip = requires('root', 'docker', 'overlay');
let daemon: Berthd;
useBerthdWithBusybox(skip, { set: (started) => { daemon = started; }, get: () => daemon });

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/** the JSON lines of a progress stream (pull, push, load), with any error line raised */
async function progress(docker: Docker, stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  return await new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, lines: Array<Record<string, unknown>>) => {
      const failed = lines.find((l) => typeof l['error'] === 'string');
      if (err || failed) reject(err ?? new Error(String(failed?.['error'])));
      else resolve(lines);
    });
  });
}

/** the file names of a tar archive, read by the system's tar */
async function tarNames(archive: Buffer, dir: string, name: string): Promise<string[]> {
  const file = path.join(dir, name);
  await writeFile(file, archive);
  const { stdout } = await run('tar', ['-tf', file]);
  return stdout.split('\n').filter(Boolean);
}

const LOOP = ['sh', '-c', 'trap "exit 0" TERM; echo up; while true; do sleep 0.2; done'];

describe('dockerode drives every container and image verb', { skip, timeout: 240_000 }, () => {
  const client = (): Docker => new Docker({ socketPath: daemon.socket });

  test('run -d, top, stats one-shot, pause/unpause, rename, restart, stop, kill, wait', async () => {
    const docker = client();
    const container = await docker.createContainer({ Image: 'busybox', Cmd: LOOP, name: `ode-life-${daemon.token}` });
    await container.start();
    const top = await container.top({ ps_args: '-ef' }) as { Titles: string[]; Processes: string[][] };
    assert.ok(top.Titles.includes('PID') || top.Titles.includes('UID'), top.Titles.join(','));
    assert.ok(top.Processes.some((p) => p.join(' ').includes('while true')), JSON.stringify(top.Processes));

    const stats = await container.stats({ stream: false });
    assert.ok(stats.memory_stats.usage !== undefined && stats.memory_stats.usage > 0, JSON.stringify(stats.memory_stats));
    assert.ok(stats.pids_stats?.current !== undefined && stats.pids_stats.current >= 1);
    assert.ok(stats.cpu_stats.cpu_usage.total_usage > 0);
    assert.match(stats.read, /^\d{4}-/);

    await container.pause();
    assert.equal((await container.inspect()).State.Status, 'paused');
    assert.equal((await container.inspect()).State.Paused, true);
    await container.unpause();
    assert.equal((await container.inspect()).State.Status, 'running');

    await container.rename({ name: `ode-renamed-${daemon.token}` });
    assert.equal((await container.inspect()).Name, `/ode-renamed-${daemon.token}`);

    const firstPid = (await container.inspect()).State.Pid;
    await container.restart({ t: 5 });
    const restarted = await container.inspect();
    assert.equal(restarted.State.Running, true);
    assert.notEqual(restarted.State.Pid, firstPid, 'a restart runs a new process');

    await container.stop({ t: 5 });
    const stopped = await container.inspect();
    assert.deepEqual([stopped.State.Status, stopped.State.ExitCode], ['exited', 0], 'TERM trapped: exit 0');
    const again = await container.stop().then(() => 'stopped', (e: { statusCode?: number }) => e.statusCode);
    assert.ok(again === 304 || again === 'stopped', `a second stop is 304 (not modified): ${String(again)}`);

    await container.start();
    const waiting = container.wait() as Promise<{ StatusCode: number }>;
    await container.kill({ signal: 'SIGKILL' });
    assert.equal((await waiting).StatusCode, 137);
    await container.remove();
  });

  test('archive both ways (putArchive, getArchive), commit, export', async () => {
    const docker = client();
    const dir = path.join(daemon.dir, 'archive');
    await mkdir(path.join(dir, 'in'), { recursive: true });
    await writeFile(path.join(dir, 'in', 'note.txt'), 'put by dockerode\n');
    await run('tar', ['-C', path.join(dir, 'in'), '-cf', path.join(dir, 'in.tar'), 'note.txt']);

    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
    await container.start();
    await container.putArchive(createReadStream(path.join(dir, 'in.tar')), { path: '/tmp' });
    const fetched = await collect(await container.getArchive({ path: '/tmp/note.txt' }));
    assert.deepEqual(await tarNames(fetched, dir, 'got.tar'), ['note.txt']);
    await run('tar', ['-C', dir, '-xf', path.join(dir, 'got.tar')]);
    assert.equal(await readFile(path.join(dir, 'note.txt'), 'utf8'), 'put by dockerode\n');
    const missing = await container.getArchive({ path: '/no/such/file' }).then(() => 0, (e: { statusCode?: number }) => e.statusCode);
    assert.equal(missing, 404);
    const outside = await container.putArchive(createReadStream(path.join(dir, 'in.tar')), { path: '/no/such/dir' })
      .then(() => 0, (e: { statusCode?: number }) => e.statusCode);
    assert.equal(outside, 404, 'extracting into a missing directory is refused');

    const committed = await container.commit({ repo: `ode-commit-${daemon.token}`, tag: 'v1', comment: 'by dockerode',
      changes: ['ENV FROM_COMMIT=yes'] }) as { Id: string };
    assert.match(committed.Id, /^sha256:[0-9a-f]{64}$/);
    const image = await docker.getImage(`ode-commit-${daemon.token}:v1`).inspect();
    assert.equal(image.Comment, 'by dockerode');
    assert.ok(image.Config.Env.includes('FROM_COMMIT=yes'), image.Config.Env.join(','));
    const check = await docker.createContainer({ Image: `ode-commit-${daemon.token}:v1`, Cmd: ['cat', '/tmp/note.txt'] });
    await check.start();
    assert.equal(((await check.wait()) as { StatusCode: number }).StatusCode, 0);
    assert.match((await check.logs({ stdout: true })).toString(), /put by dockerode/);
    await check.remove();

    const exported = await collect(await container.export());
    const names = await tarNames(exported, dir, 'export.tar');
    assert.ok(names.some((n) => n.replace(/^\.\//, '') === 'tmp/note.txt'), 'the export holds the copied file');
    assert.ok(names.some((n) => n.replace(/^\.\//, '') === 'bin/busybox'));
    await container.remove({ force: true });
    await docker.getImage(`ode-commit-${daemon.token}:v1`).remove();
  });

  test('images: list, tag, save, remove, load', async () => {
    const docker = client();
    const tagged = `ode-tag-${daemon.token}`;
    await docker.getImage('busybox').tag({ repo: tagged, tag: 'v2' });
    const listed = await docker.listImages({ filters: { reference: [`${tagged}:*`] } });
    assert.deepEqual(listed.map((i) => i.RepoTags), [[`${tagged}:v2`]]);
    const busyboxId = (await docker.getImage('busybox').inspect()).Id;
    assert.equal(listed[0]?.Id, busyboxId);

    const conflict = await docker.getImage(busyboxId).remove().then(() => 0, (e: { statusCode?: number }) => e.statusCode);
    assert.equal(conflict, 409, 'an image id named by two repositories: conflict without force');

    const saved = await collect(await docker.getImage(`${tagged}:v2`).get());
    const names = await tarNames(saved, daemon.dir, 'saved.tar');
    assert.ok(names.includes('manifest.json'), names.join(','));

    const removed = await docker.getImage(`${tagged}:v2`).remove() as Array<{ Untagged?: string; Deleted?: string }>;
    assert.deepEqual(removed, [{ Untagged: `${tagged}:v2` }], 'busybox:latest still holds the image');
    const gone = await docker.getImage(`${tagged}:v2`).inspect().then(() => 0, (e: { statusCode?: number }) => e.statusCode);
    assert.equal(gone, 404);

    const loaded = await progress(docker, await docker.loadImage(createReadStream(path.join(daemon.dir, 'saved.tar'))));
    assert.ok(loaded.some((l) => String(l['stream'] ?? '').includes(`Loaded image: ${tagged}:v2`)), JSON.stringify(loaded));
    assert.equal((await docker.getImage(`${tagged}:v2`).inspect()).Id, busyboxId);
    await docker.getImage(`${tagged}:v2`).remove();
  });

  test('push and pull through a loopback registry', { skip: requires('registry') }, async () => {
    const docker = client();
    const registry = await startRegistry(path.join(daemon.dir, 'registry'));
    try {
      const repo = `${registry.address}/ode-${daemon.token}`;
      await docker.getImage('busybox').tag({ repo, tag: 'v1' });
      const pushed = await progress(docker, await docker.getImage(`${repo}:v1`).push({ tag: 'v1' }));
      const summary = pushed.find((l) => typeof l['aux'] === 'object');
      assert.ok(summary, `the push ends with its digest: ${JSON.stringify(pushed)}`);
      assert.match(JSON.stringify(summary), /"Digest":"sha256:[0-9a-f]{64}"/);
      await docker.getImage(`${repo}:v1`).remove();

      const pulled = await progress(docker, await docker.pull(`${repo}:v1`));
      assert.ok(pulled.some((l) => /Downloaded newer image|Image is up to date/.test(String(l['status']))), JSON.stringify(pulled));
      const image = await docker.getImage(`${repo}:v1`).inspect();
      assert.ok(image.RepoDigests.some((d) => d.startsWith(`${repo}@sha256:`)), image.RepoDigests.join(','));
      await docker.getImage(`${repo}:v1`).remove();

      const missing = await docker.pull(`${registry.address}/ode-none-${daemon.token}:v1`)
        .then(async (s) => await progress(docker, s).then(() => 'ok', (e: Error) => e.message), (e: Error) => e.message);
      assert.match(missing, /not found|manifest unknown/i);
    } finally {
      await registry.stop();
    }
  });

  test('system df, info, events', async () => {
    const docker = client();
    const since = Math.floor(Date.now() / 1000) - 1;
    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], Labels: { ode: daemon.token } });
    await container.start();
    await container.wait();

    const df = await docker.df() as { LayersSize: number; Images: Array<{ Id: string; Containers: number }>; Containers: Array<{ Id: string }>; Volumes: unknown[] };
    assert.ok(df.LayersSize > 0);
    assert.ok(df.Images.some((i) => i.Containers === 1), 'busybox counts the container');
    assert.ok(df.Containers.some((c) => c.Id === container.id));
    assert.ok(Array.isArray(df.Volumes));
    const summary = (df as unknown as { ContainerUsage?: { TotalCount: number; ActiveCount: number } }).ContainerUsage;
    assert.deepEqual(summary && [summary.TotalCount, summary.ActiveCount], [1, 0], 'without a version prefix: 1.52, both shapes');

    const info = await docker.info() as { Containers: number; ContainersStopped: number; Images: number; MemTotal: number; NCPU: number; Driver: string; ServerVersion: string };
    assert.equal(info.Containers, 1);
    assert.equal(info.ContainersStopped, 1);
    assert.ok(info.Images >= 1);
    assert.ok(info.MemTotal > 0 && info.NCPU > 0);
    assert.equal(info.Driver, 'overlay2');

    await container.remove();
    const events = await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { label: [`ode=${daemon.token}`] } });
    const actions = (await collect(events)).toString().trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.deepEqual(actions.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)), ['create', 'start', 'die', 'destroy']);
  });
});
