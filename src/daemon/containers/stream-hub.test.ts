import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachScanner, parseDetachKeys } from './stream-hub.js';

test('detach keys: default ctrl-p ctrl-q, custom lists, held-back partial matches', () => {
  assert.deepEqual([...parseDetachKeys(undefined)], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  const scanner = new DetachScanner(parseDetachKeys(undefined));
  assert.deepEqual(scanner.push(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detach: false });
  assert.deepEqual(scanner.push(Buffer.from('c')), { forward: Buffer.from('\x10c'), detach: false });
  assert.deepEqual(scanner.push(Buffer.from('x\x10\x11rest')), { forward: Buffer.from('x'), detach: true });
});
