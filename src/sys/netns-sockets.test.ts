import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsSocketFactory } from './netns-sockets.js';

test('sockets in a namespace that cannot be entered: a clear error naming the step and the namespace', async () => {
  const factory = new NetnsSocketFactory('/nonexistent/berth-netns');
  assert.throws(() => factory.socket({ protocol: 'tcp' }), /no socket maker runs in \/nonexistent\/berth-netns/);
  await factory.start();
  try {
    assert.throws(() => factory.socket({ protocol: 'udp', address: '10.0.0.1', port: 53 }), /setns 10\.0\.0\.1:53 in \/nonexistent\/berth-netns: ENOENT/);
    assert.throws(() => factory.socket({ protocol: 'tcp', address: 'fd00::1' }), /IPv4 only/);
  } finally {
    await factory.close();
  }
});
