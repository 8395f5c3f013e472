import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { reservePort } from './port-reserver.js';

test('a bound port is reported as a conflict; a range moves on to a free port; 0 picks one', async () => {
  const first = await reservePort({ protocol: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 });
  try {
    assert.ok(first.hostPort > 0);
    await assert.rejects(
      reservePort({ protocol: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortStart: first.hostPort, hostPortEnd: first.hostPort }),
      (err: Error) => err.message.includes(`tcp port ${first.hostPort}`) && err.message.includes('already in use'));
    const next = await reservePort({ protocol: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortStart: first.hostPort, hostPortEnd: first.hostPort + 5 });
    assert.ok(next.hostPort > first.hostPort && next.hostPort <= first.hostPort + 5);
    await next.close();
    const udp = await reservePort({ protocol: 'udp', containerPort: 53, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 });
    await assert.rejects(reservePort({ protocol: 'udp', containerPort: 53, hostIp: '127.0.0.1', hostPortStart: udp.hostPort, hostPortEnd: udp.hostPort }), /already in use/);
    await udp.close();
  } finally {
    await first.close();
  }
});

test('in proxy mode the reserved socket relays to the target', async () => {
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const target = echo.address();
  const port = typeof target === 'object' && target ? target.port : 0;
  const proxy = await reservePort({ protocol: 'tcp', containerPort: port, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 }, { ip: '127.0.0.1', port });
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(proxy.hostPort, '127.0.0.1', () => s.write('via-proxy'));
      s.on('data', (d) => { s.destroy(); resolve(d.toString()); });
      s.on('error', reject);
    });
    assert.equal(reply, 'via-proxy');
  } finally {
    await proxy.close();
    echo.close();
  }
});
