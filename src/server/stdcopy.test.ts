import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, FrameDecoder, STDERR, STDOUT } from './stdcopy.js';

test('frames carry the stream number and big-endian size', () => {
  const framed = frame('stderr', Buffer.from('oops'));
  assert.deepEqual([...framed.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 4]);
  assert.equal(framed.subarray(8).toString(), 'oops');
});

test('the decoder reassembles frames split across chunks', () => {
  const bytes = Buffer.concat([frame('stdout', Buffer.from('hello ')), frame('stderr', Buffer.from('world'))]);
  const decoder = new FrameDecoder();
  const frames = [...decoder.push(bytes.subarray(0, 5)), ...decoder.push(bytes.subarray(5, 17)), ...decoder.push(bytes.subarray(17))];
  assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[STDOUT, 'hello '], [STDERR, 'world']]);
});
