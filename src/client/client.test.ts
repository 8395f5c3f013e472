import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chooseHost, parseHost } from './host.js';
import { JsonLineDecoder } from './json-stream.js';
import { frame, StdDemuxer } from './stdcopy.js';
import { ApiTransport, buildQuery, compareVersions } from './transport.js';
import { DockerClient } from './api.js';
import { BerthError } from '../errors/berth-error.js';

test('host: flag, then BERTH_HOST, then DOCKER_HOST, then the berth socket', () => {
  assert.equal(chooseHost('tcp://a:1', { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'tcp://a:1');
  assert.equal(chooseHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'unix:///b');
  assert.equal(chooseHost(undefined, { DOCKER_HOST: 'unix:///c' }), 'unix:///c');
  assert.equal(chooseHost(undefined, { DOCKER_HOST: '' }), 'unix:///run/berth/berth.sock');
});

test('parseHost understands unix and tcp forms and rejects the rest', () => {
  assert.deepEqual(parseHost('unix:///run/x.sock'), { kind: 'unix', socketPath: '/run/x.sock', url: 'unix:///run/x.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), { kind: 'tcp', hostname: '127.0.0.1', port: 2376, url: 'tcp://127.0.0.1:2376' });
  assert.equal(parseHost('tcp://[::1]:5').kind, 'tcp');
  assert.equal(parseHost('localhost').kind === 'tcp' && parseHost('localhost').url, 'tcp://localhost:2375');
  assert.throws(() => parseHost('unix://relative'), /must be absolute/);
  assert.throws(() => parseHost('ssh://host'), /only unix:\/\/ and tcp:\/\//);
  assert.throws(() => parseHost('tcp://h:99999'), /bad port/);
});

test('stdcopy demuxes frames split anywhere', () => {
  const frames: Array<[string, string]> = [];
  const demux = new StdDemuxer((stream, data) => frames.push([stream, data.toString()]));
  const bytes = Buffer.concat([frame('stdout', Buffer.from('hello ')), frame('stderr', Buffer.from('oops')), frame('stdout', Buffer.from('world'))]);
  for (let i = 0; i < bytes.length; i += 3) demux.push(bytes.subarray(i, i + 3));
  assert.deepEqual(frames, [['stdout', 'hello '], ['stderr', 'oops'], ['stdout', 'world']]);
  assert.equal(demux.leftover, 0);
  assert.throws(() => new StdDemuxer(() => undefined).push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0])), /unrecognized stream 9/);
});

test('JSON line decoder handles values split across chunks and rejects garbage', () => {
  const values: unknown[] = [];
  const decoder = new JsonLineDecoder((v) => values.push(v));
  decoder.push('{"a":1}\r\n{"b"');
  decoder.push(':2}\n');
  decoder.end();
  assert.deepEqual(values, [{ a: 1 }, { b: 2 }]);
  assert.throws(() => decoder.push('nope\n'), /invalid JSON in stream/);
});

test('query strings and versions', () => {
  assert.equal(buildQuery({ all: true, limit: 3, skip: undefined, names: ['a', 'b'] }), '?all=1&limit=3&names=a&names=b');
  assert.ok(compareVersions('1.41', '1.43') < 0);
  assert.ok(compareVersions('1.9', '1.10') < 0);
});

async function withServer(handler: http.RequestListener, body: (client: DockerClient) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-client-'));
  const socketPath = path.join(dir, 's.sock');
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const transport = new ApiTransport(parseHost(`unix://${socketPath}`));
  try {
    await body(new DockerClient(transport));
  } finally {
    transport.close();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

test('negotiates the API version down to the daemon and prefixes paths', async () => {
  const seen: string[] = [];
  await withServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    if (req.url === '/_ping') { res.setHeader('API-Version', '1.41'); res.end('OK'); return; }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify([{ Id: 'abc', Image: 'img', Created: 1, Names: ['/n'] }]));
  }, async (client) => {
    const list = await client.listContainers({ all: true });
    assert.equal(list[0]?.Id, 'abc');
  });
  assert.deepEqual(seen, ['GET /_ping', 'GET /v1.41/containers/json?all=1']);
});

test('daemon errors keep the message and map the status to a kind; bad shapes are rejected', async () => {
  await withServer((req, res) => {
    if (req.url === '/_ping') { res.setHeader('API-Version', '1.43'); res.end('OK'); return; }
    if (req.url?.includes('/containers/json')) { res.end(JSON.stringify([{ Id: 5 }])); return; }
    res.statusCode = 404;
    res.end(JSON.stringify({ message: 'No such container: x' }));
  }, async (client) => {
    await assert.rejects(client.inspectContainer('x'), (err: unknown) => err instanceof BerthError && err.kind === 'not_found' && err.message === 'No such container: x');
    await assert.rejects(client.listContainers({}), /\/containers\/json\[0\]\.Id should be a string, got number/);
  });
});

test('a missing socket says the daemon is not running and what to start', async () => {
  const transport = new ApiTransport(parseHost('unix:///nonexistent/berth-test.sock'));
  await assert.rejects(new DockerClient(transport).version(), (err: unknown) =>
    err instanceof BerthError && err.code === 'DAEMON_NOT_RUNNING' && /is the daemon running/.test(err.message) && /berthd/.test(err.hint ?? ''));
  transport.close();
});
