import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { exchange, requestHead, ResponseParser } from './exchange.js';
import { resolveTls } from './tls-config.js';

function parseSplit(bytes: string, step: number, bodyless = false): { status: number; body: string; headers: Record<string, string> } {
  const parser = new ResponseParser(bodyless);
  const data = Buffer.from(bytes, 'latin1');
  for (let i = 0; i < data.length; i += step) if (parser.push(data.subarray(i, i + step))) break;
  const result = parser.done ? parser.result() : parser.end();
  return { status: result.status, body: result.body.toString('latin1'), headers: result.headers };
}

test('responses parse whatever way the bytes are split: length, chunked, close-delimited, bodyless', () => {
  const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n';
  const length = 'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n{"m":"x"}';
  for (const step of [1, 2, 3, 7, 1000]) {
    const a = parseSplit(chunked, step);
    assert.deepEqual([a.status, a.body, a.headers['x-a']], [200, 'hello, world', '1, 2']);
    assert.deepEqual([parseSplit(length, step).status, parseSplit(length, step).body], [404, '{"m":"x"}']);
  }
  assert.equal(parseSplit('HTTP/1.0 200 OK\r\n\r\nuntil close', 4).body, 'until close');
  assert.equal(parseSplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 100, true).body, '');
  assert.equal(parseSplit('HTTP/1.1 204 No Content\r\n\r\n', 100).status, 204);
});

test('malformed or truncated responses are errors, not data', () => {
  assert.throws(() => new ResponseParser().push(Buffer.from('SMTP ready\r\n\r\n')), /bad status line/);
  assert.throws(() => new ResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')), /bad Content-Length/);
  assert.throws(() => new ResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')), /bad chunk size/);
  const truncated = new ResponseParser();
  truncated.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.throws(() => truncated.end(), /closed in the middle of the body/);
  assert.throws(() => new ResponseParser().end(), /before the headers/);
});

test('request heads refuse line breaks and unescaped characters', () => {
  assert.equal(requestHead({ method: 'GET', path: '/_ping', headers: { Host: 'h' } }), 'GET /_ping HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.throws(() => requestHead({ method: 'GET', path: '/containers/a b/json', headers: {} }), /unescaped characters/);
  assert.throws(() => requestHead({ method: 'GET', path: '/x', headers: { 'X-Registry-Auth': 'a\r\nEvil: 1' } }), /line break/);
});

test('an exchange over a unix socket sends the request and resolves with the whole answer', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-exchange-'));
  const socketPath = path.join(dir, 's.sock');
  let seen = '';
  const server = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('\r\n\r\n{"a":1}')) socket.write('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    const body = Buffer.from('{"a":1}');
    const answer = await exchange(net.connect(socketPath), { method: 'POST', path: '/v1.41/x', headers: { 'Content-Length': String(body.length) }, body }, (e) => e);
    assert.deepEqual([answer.status, answer.statusText, answer.body.toString()], [201, 'Created', 'abc']);
    assert.match(seen, /^POST \/v1\.41\/x HTTP\/1\.1\r\nContent-Length: 7\r\n\r\n\{"a":1\}$/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});

test('TLS settings follow docker: flags, DOCKER_TLS*, DOCKER_CERT_PATH files; extra CAs only without a CA file', () => {
  const none = (): boolean => false;
  assert.equal(resolveTls({}, {}, none), undefined);
  assert.deepEqual(resolveTls({ tls: true }, { HOME: '/h' }, none), { verify: false });
  const files = new Set(['/c/ca.pem', '/c/cert.pem', '/c/key.pem']);
  assert.deepEqual(resolveTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c', BERTH_EXTRA_CA_CERTS: '/x.pem' }, (f) => files.has(f)),
    { verify: true, caFile: '/c/ca.pem', certFile: '/c/cert.pem', keyFile: '/c/key.pem' });
  assert.deepEqual(resolveTls({ tlsverify: true }, { HOME: '/h', BERTH_EXTRA_CA_CERTS: '/x.pem' }, none), { verify: true, extraCaFile: '/x.pem' });
  assert.deepEqual(resolveTls({ tlscacert: '/mine.pem' }, { HOME: '/h' }, none), { verify: false, caFile: '/mine.pem' });
  assert.deepEqual(resolveTls({ tlsverify: false }, { DOCKER_TLS_VERIFY: '1', HOME: '/h' }, none), { verify: false });
});
