// dockerode (docker-modem: hijacked attach/exec, stdcopy, JSON streams) against berthd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { requires } from '../support/requirements.js';
import { retireBerthd, importBusybox, startBerthd, type Berthd } from './harness.js';

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString();
}

describe('dockerode against berthd', { skip: requires('root', 'docker', 'overlay'), timeout: 300_000 }, () => {
  let d: Berthd;
  let docker: Docker;

  before(async () => {
    d = await startBerthd();
    await importBusybox(d);
    docker = new Docker({ socketPath: d.socket });
  });

  after(async () => {
    if (!d) return;
    const leaks = await retireBerthd(d);
    assert.deepEqual(leaks, []);
  });

  test('ping, version, info, images', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    assert.equal((await docker.version()).Version, '0.1.0');
    assert.ok((await docker.info() as { Images: number }).Images >= 1);
    assert.ok((await docker.listImages()).some((i) => i.RepoTags?.includes('busybox:latest')));
  });

  test('create, attach, start, wait, logs, inspect, remove', async () => {
    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], name: 'ode1' });
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = new PassThrough();
    const err = new PassThrough();
    container.modem.demuxStream(stream, out, err);
    const outText = collect(out);
    const errText = collect(err);
    await container.start();
    const result = await container.wait() as { StatusCode: number };
    assert.equal(result.StatusCode, 4);
    stream.on('end', () => { out.end(); err.end(); });
    if ((stream as { readableEnded?: boolean }).readableEnded) { out.end(); err.end(); }
    assert.equal((await outText).trim(), 'out');
    assert.equal((await errText).trim(), 'err');
    const logs = await container.logs({ stdout: true, stderr: true, timestamps: true });
    assert.match(String(logs), /\d{4}-\d\d-\d\dT[\d:.]+Z out/);
    const info = await container.inspect();
    assert.equal(info.State.ExitCode, 4);
    assert.equal(info.Name, '/ode1');
    await container.remove();
    await assert.rejects(container.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  test('exec with output and exit code; list filters; events stream', async () => {
    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'], Labels: { suite: 'ode' } });
    await container.start();
    const exec = await container.exec({ Cmd: ['sh', '-c', 'echo exec-out; exit 2'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    container.modem.demuxStream(stream, out, new PassThrough());
    const text = collect(out);
    stream.on('end', () => out.end());
    assert.equal((await text).trim(), 'exec-out');
    let exit: number | null = null;
    for (let i = 0; i < 50 && exit === null; i++) {
      exit = (await exec.inspect()).ExitCode;
      if (exit === null) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(exit, 2);
    const listed = await docker.listContainers({ filters: { label: ['suite=ode'] } });
    assert.deepEqual(listed.map((c) => c.Id), [container.id]);
    const events = await docker.getEvents({ since: Math.floor(Date.now() / 1000) - 60, until: Math.floor(Date.now() / 1000) + 1,
      filters: { container: [container.id] } });
    const lines = (await collect(events)).trim().split('\n').map((l) => JSON.parse(l) as { Action: string });
    assert.ok(lines.some((e) => e.Action === 'start'));
    assert.ok(lines.some((e) => e.Action.startsWith('exec_start')));
    await container.remove({ force: true });
  });
});
