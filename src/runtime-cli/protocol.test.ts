import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRequest, encodeMessage, encodeRequest, MessageReader } from './protocol.js';

test('a request survives encoding and decoding', () => {
  const request = { cwd: '/work', argv: ['--root', 'r', 'run', 'x y'], env: { PATH: '/bin', EMPTY: '', EQ: 'a=b' } };
  assert.deepEqual(decodeRequest(encodeRequest(request)), request);
});

test('malformed requests are rejected with the reason', () => {
  assert.throws(() => decodeRequest(Buffer.alloc(4)), /too short/);
  const good = encodeRequest({ cwd: '/', argv: ['state'], env: {} });
  assert.throws(() => decodeRequest(good.subarray(0, good.length - 1)), /no terminating NUL/);
  const counts = Buffer.from(good);
  counts.writeUInt32LE(5, 0);
  assert.throws(() => decodeRequest(counts), /2 strings, expected 1 \+ 5 \+ 0/);
  assert.throws(() => decodeRequest(encodeRequest({ cwd: 'relative', argv: [], env: {} })), /cwd "relative" is not absolute/);
});

test('messages split across chunks are reassembled', () => {
  const bytes = Buffer.concat([encodeMessage(1, 15), encodeMessage(2, 80, 24)]);
  const reader = new MessageReader();
  assert.deepEqual(reader.push(bytes.subarray(0, 7)), []);
  assert.deepEqual(reader.push(bytes.subarray(7, 20)), [{ type: 1, a: 15, b: 0 }]);
  assert.deepEqual(reader.push(bytes.subarray(20)), [{ type: 2, a: 80, b: 24 }]);
});
