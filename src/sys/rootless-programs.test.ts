// argv of the programs rootless berthd runs (pasta, newuidmap): built, never a shell string.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pastaArgs } from './pasta.js';
import { idMapArgs } from './userns-spawn.js';

test('newuidmap/newgidmap get inside outside count triples', () => {
  assert.deepEqual(idMapArgs([{ inside: 0, outside: 1001, count: 1 }, { inside: 1, outside: 100000, count: 65536 }]), ['0', '1001', '1', '1', '100000', '65536']);
});

test('pasta: forwards only the published ports, nothing from host loopback, and no gateway-to-host mapping', () => {
  const args = pastaArgs({ netnsPath: '/x/netns/c1', pidFile: '/x/pasta/c1.pid', tcp: ['8080:80', '127.0.0.1/9090:90'], udp: [] });
  assert.deepEqual(args.slice(args.indexOf('--netns')), ['--netns', '/x/netns/c1', '--pid', '/x/pasta/c1.pid']);
  assert.ok(args.includes('--no-map-gw'));
  assert.deepEqual(args.slice(args.indexOf('-T'), args.indexOf('-T') + 4), ['-T', 'none', '-U', 'none']);
  const tcp = args.flatMap((a, i) => (a === '-t' ? [args[i + 1]] : []));
  assert.deepEqual(tcp, ['8080:80', '127.0.0.1/9090:90']);
  const udp = args.flatMap((a, i) => (a === '-u' ? [args[i + 1]] : []));
  assert.deepEqual(udp, ['none'], 'no udp port published: none, not pasta\'s default "auto"');
});
