import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { notFound, conflict } from '../errors/berth-error.js';
import { EventBus } from '../daemon/events/event-bus.js';
import { listenApi } from './listener.js';
import { Router, type Logger } from './router.js';
import { systemRoutes } from './routes/system/routes.js';
import type { SystemBackend } from './routes/system/backend.js';
import { FrameDecoder, frame } from './stdcopy.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function fakeSystem(bus: EventBus): SystemBackend {
  return {
    version: () => ({ Platform: { Name: 'berth' }, Components: [], Version: '0.1.0', ApiVersion: '1.55', MinAPIVersion: '1.24',
      GitCommit: 'x', GoVersion: 'node', Os: 'linux', Arch: 'amd64', KernelVersion: '6', BuildTime: '' }),
    info: async () => ({ Containers: 0 }),
    diskUsage: async () => ({}),
    auth: async () => ({ Status: 'Login Succeeded' }),
    subscribeEvents: (filters, since, onEvent) => bus.subscribe(filters, since, onEvent),
  };
}

async function withServer(fn: (socket: string, bus: EventBus) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-router-'));
  const socket = path.join(dir, 'api.sock');
  const bus = new EventBus();
  const router = new Router(quiet).add(systemRoutes(fakeSystem(bus))).add([
    { method: 'GET', path: '/containers/{id}/json', handler: async (ex) => {
      if (ex.param('id') === 'dup') throw conflict('AMBIGUOUS', 'ambiguous id dup');
      throw notFound('NO_SUCH_CONTAINER', `no such container: ${ex.param('id')}`);
    } },
    { method: 'GET', path: '/images/{name*}/json', handler: async (ex) => { ex.json(200, { name: ex.param('name') }); } },
    { method: 'POST', path: '/echo', handler: async (ex) => {
      const body = await ex.readBody(16);
      ex.json(200, { got: body.toString() });
    } },
    { method: 'POST', path: '/containers/{id}/attach', handler: async (ex) => {
      const stream = ex.hijack(true);
      stream.input.on('data', (chunk: Buffer) => stream.output.write(frame('stdout', chunk)));
      stream.input.on('end', () => { stream.output.write(frame('stderr', Buffer.from('bye'))); stream.close(); });
    } },
  ]);
  const listener = await listenApi(router, { hosts: [`unix://${socket}`] }, quiet);
  try {
    await fn(socket, bus);
  } finally {
    await listener.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function request(socket: string, method: string, urlPath: string, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: urlPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('ping answers GET and HEAD with the version headers; the socket is 0660', async () => {
  await withServer(async (socket) => {
    const get = await request(socket, 'GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.body, 'OK');
    assert.equal(get.headers['api-version'], '1.55');
    assert.equal(get.headers['ostype'], 'linux');
    const head = await request(socket, 'HEAD', '/v1.41/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await stat(socket)).mode & 0o777, 0o660);
  });
});

test('versions outside 1.24..1.55 are refused with 400; errors use the kind table', async () => {
  await withServer(async (socket) => {
    const old = await request(socket, 'GET', '/v1.12/version');
    assert.equal(old.status, 400);
    assert.match(JSON.parse(old.body).message, /too old/);
    assert.equal((await request(socket, 'GET', '/v1.99/version')).status, 400);
    assert.equal((await request(socket, 'GET', '/v1.24/version')).status, 200);
    const missing = await request(socket, 'GET', '/v1.41/containers/abc/json');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { message: 'no such container: abc' });
    assert.equal((await request(socket, 'GET', '/containers/dup/json')).status, 409);
    assert.equal((await request(socket, 'GET', '/nothing/here')).status, 404);
  });
});

test('image names may contain slashes; oversized bodies are refused', async () => {
  await withServer(async (socket) => {
    const named = await request(socket, 'GET', '/images/localhost:5000/team/app:1/json');
    assert.deepEqual(JSON.parse(named.body), { name: 'localhost:5000/team/app:1' });
    const big = await request(socket, 'POST', '/echo', 'x'.repeat(64));
    assert.equal(big.status, 400);
    assert.match(JSON.parse(big.body).message, /exceeds 16 bytes/);
  });
});

test('attach upgrades the connection and carries stdin and framed output both ways', async () => {
  await withServer(async (socket) => {
    const conn = net.connect({ path: socket, allowHalfOpen: true });
    conn.write('POST /v1.44/containers/x/attach?stream=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    const received: Buffer[] = [];
    conn.on('data', (c: Buffer) => received.push(c));
    await new Promise((r) => setTimeout(r, 100));
    conn.end('ping');
    await new Promise((r) => conn.on('close', r));
    const all = Buffer.concat(received);
    const headerEnd = all.indexOf('\r\n\r\n');
    const head = all.subarray(0, headerEnd).toString();
    assert.match(head, /^HTTP\/1.1 101 UPGRADED/);
    assert.match(head, /application\/vnd.docker.multiplexed-stream/);
    const frames = new FrameDecoder().push(all.subarray(headerEnd + 4));
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'ping'], [2, 'bye']]);
  });
});

test('events replay since a time and stop at until', async () => {
  await withServer(async (socket, bus) => {
    const before = Date.now() / 1000 - 1;
    bus.publish('container', 'create', 'c1', { name: 'a' });
    bus.publish('image', 'pull', 'busybox');
    const until = Date.now() / 1000 + 0.3;
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'] }));
    const pending = request(socket, 'GET', `/v1.41/events?since=${before.toFixed(3)}&until=${until.toFixed(3)}&filters=${filters}`);
    setTimeout(() => bus.publish('container', 'start', 'c1', { name: 'a' }), 50);
    const answer = await pending;
    const events = answer.body.trim().split('\n').map((line) => JSON.parse(line) as { Action: string; status?: string });
    assert.deepEqual(events.map((e) => e.Action), ['create', 'start']);
    assert.equal(events[0]?.status, 'create');
  });
});
