import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, errnoCode, isBerthError, notFound, withCleanup } from './berth-error.js';

test('errors carry kind, code and cause', () => {
  const cause = new Error('disk gone');
  const err = notFound('NO_SUCH_CONTAINER', 'no such container: abc', { cause, hint: 'see berth ps' });
  assert.ok(err instanceof BerthError);
  assert.equal(err.kind, 'not_found');
  assert.equal(err.code, 'NO_SUCH_CONTAINER');
  assert.equal(err.cause, cause);
  assert.equal(err.hint, 'see berth ps');
  assert.ok(isBerthError(err, 'not_found'));
  assert.ok(!isBerthError(err, 'conflict'));
});

test('errnoCode reads system error codes only', () => {
  assert.equal(errnoCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
  assert.equal(errnoCode('nope'), undefined);
  assert.equal(errnoCode({ code: 5 }), undefined);
});

test('withCleanup keeps the original error when cleanup fails too', async () => {
  const original = new Error('first');
  await assert.rejects(
    withCleanup(async () => { throw original; }, async () => { throw new Error('second'); }),
    (err: unknown) => err === original && (err as { suppressed?: Error }).suppressed?.message === 'second',
  );
});
