import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probe, SystemChecker } from './check.js';
import { firewallExtras, parseChains } from './check-network.js';

const LIVE = `table inet berth-6478a {
	chain published-ports {
		meta nfproto ipv4 tcp dport 38123 dnat ip to 172.17.0.2:80 # handle 4
		meta nfproto ipv4 tcp dport 39999 dnat ip to 172.17.0.9:80 # handle 9
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump published-ports
	}

	chain berth-leak-x {
		counter
	}
}
`;

const EXPECTED = `  chain published-ports {
    meta nfproto ipv4 tcp dport 38123 dnat ip to 172.17.0.2:80
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump published-ports
  }`;

test('parseChains reads nft listings and rendered bodies alike (hook headers and handles left out)', () => {
  const chains = parseChains(LIVE);
  assert.deepEqual([...chains.keys()], ['published-ports', 'prerouting', 'berth-leak-x']);
  assert.deepEqual(chains.get('prerouting'), ['fib daddr type local jump published-ports']);
  assert.deepEqual(parseChains(EXPECTED).get('published-ports'), ['meta nfproto ipv4 tcp dport 38123 dnat ip to 172.17.0.2:80']);
});

test('firewallExtras names the rule of a gone container and a chain nobody defines, nothing else', () => {
  assert.deepEqual(firewallExtras(LIVE, EXPECTED), [
    { chain: 'published-ports', rule: 'meta nfproto ipv4 tcp dport 39999 dnat ip to 172.17.0.9:80' },
    { chain: 'berth-leak-x' },
  ]);
  assert.deepEqual(firewallExtras(EXPECTED, EXPECTED), []);
});

test('SystemChecker reports, repairs in probe order, keeps unrepairable findings and records repair errors', async () => {
  const done: string[] = [];
  const checker = new SystemChecker([
    probe('one', async () => [
      { kind: 'mount', resource: '/m', detail: 'd', repair: async () => { done.push('/m'); } },
      { kind: 'corrupt-record', resource: '/r', detail: 'kept' },
    ]),
    probe('two', async () => [{ kind: 'veth', resource: 'bv1', detail: 'd', repair: async () => { throw new Error('busy'); } }]),
    probe('broken', async () => { throw new Error('no nft'); }),
  ]);
  const listed = await checker.check(false);
  assert.deepEqual(listed.map((f) => [f.Kind, f.Resource, f.Repairable, f.Repaired]),
    [['mount', '/m', true, undefined], ['corrupt-record', '/r', false, undefined], ['veth', 'bv1', true, undefined], ['state-dir', 'broken', false, undefined]]);
  assert.deepEqual(done, []);
  const repaired = await checker.check(true);
  assert.deepEqual(done, ['/m']);
  assert.deepEqual(repaired.map((f) => [f.Resource, f.Repaired, f.Error]),
    [['/m', true, undefined], ['/r', undefined, undefined], ['bv1', false, 'busy'], ['broken', undefined, undefined]]);
  assert.match(repaired[3]?.Detail ?? '', /probe failed: Error: no nft/);
});
