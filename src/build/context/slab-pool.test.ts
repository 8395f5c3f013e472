import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SLAB_BYTES, SlabBuffer, SlabPool } from './slab-pool.js';

test('a slab buffer keeps appended bytes in order across slab boundaries', () => {
  const pool = new SlabPool(4, 60_000);
  const body = new SlabBuffer(pool);
  const pieces = [randomBytes(10), randomBytes(SLAB_BYTES - 5), randomBytes(SLAB_BYTES + 7), Buffer.alloc(0), randomBytes(3)];
  for (const piece of pieces) body.append(piece);
  const all = Buffer.concat(pieces);
  assert.equal(body.length, all.length);
  assert.equal(body.views().length, 3);
  assert.ok(Buffer.concat(body.views()).equals(all));
});

test('released slabs are reused by the next buffer, up to the pool bound', () => {
  const pool = new SlabPool(2, 60_000);
  const first = new SlabBuffer(pool);
  first.append(Buffer.alloc(3 * SLAB_BYTES, 1));
  const slabs = first.views();
  first.release();
  first.release(); // idempotent
  assert.equal(pool.pooled, 2);
  assert.throws(() => first.views(), /after release/);
  const second = new SlabBuffer(pool);
  second.append(Buffer.from('next'));
  assert.ok(slabs.some((slab) => slab.buffer === second.views()[0]?.buffer), 'a pooled slab is taken again');
  assert.equal(Buffer.concat(second.views()).toString(), 'next');
  assert.equal(pool.pooled, 1);
});

test('a pool with no idle time keeps nothing', () => {
  const pool = new SlabPool(8, 0);
  const body = new SlabBuffer(pool);
  body.append(Buffer.from('x'));
  body.release();
  assert.equal(pool.pooled, 0);
});
