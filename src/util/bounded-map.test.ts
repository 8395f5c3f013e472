import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap } from './bounded-map.js';

test('a full map drops the oldest key for a new one; replacing a key drops nothing', () => {
  const map = new BoundedMap<string, number>(2);
  map.set('a', 1).set('b', 2);
  map.set('a', 10);
  assert.deepEqual([...map.entries()], [['a', 10], ['b', 2]]);
  map.set('c', 3);
  assert.deepEqual([...map.keys()], ['b', 'c']);
  assert.equal(map.size, 2);
});
