import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activatedFds } from './socket-activation.js';

test('fd:// takes every activated socket, fd://N one of them', () => {
  const env = { LISTEN_PID: '42', LISTEN_FDS: '2' };
  assert.deepEqual(activatedFds('fd://', env, 42), [3, 4]);
  assert.deepEqual(activatedFds('fd://4', env, 42), [4]);
  assert.throws(() => activatedFds('fd://7', env, 42), /fd 7 is not one of the activated sockets 3, 4/);
});

test('sockets meant for another process or none at all are refused', () => {
  assert.throws(() => activatedFds('fd://', { LISTEN_PID: '41', LISTEN_FDS: '1' }, 42), /no sockets were passed by systemd/);
  assert.throws(() => activatedFds('fd://', {}, 42), /LISTEN_FDS/);
});
