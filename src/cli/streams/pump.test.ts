import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DetachMatcher, parseDetachKeys } from './pump.js';

test('detach keys parse as docker spells them', () => {
  assert.deepEqual([...parseDetachKeys(undefined)], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Unknown character: 'ctrl-1'/);
});

test('the detach sequence is found across chunks and partial matches are forwarded', () => {
  const matcher = new DetachMatcher(parseDetachKeys(undefined));
  assert.deepEqual(matcher.feed(Buffer.from([104, 16])), { forward: Buffer.from([104]), detach: false });
  assert.deepEqual(matcher.feed(Buffer.from([105])), { forward: Buffer.from([16, 105]), detach: false });
  assert.deepEqual(matcher.feed(Buffer.from([16])), { forward: Buffer.from([]), detach: false });
  assert.equal(matcher.feed(Buffer.from([17])).detach, true);
});
