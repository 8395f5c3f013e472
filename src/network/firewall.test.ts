import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFirewall, renderSandboxDns } from './firewall.js';

const base = {
  table: 'berth-x',
  networks: [
    { bridge: 'bbxa', subnets4: ['172.17.0.0/16'], subnets6: [], internal: false, masquerade: true },
    { bridge: 'bbxb', subnets4: ['172.18.0.0/16'], subnets6: ['fd00::/64'], internal: true, masquerade: true, dns: { gateway: '172.18.0.1', udpPort: 40000, tcpPort: 40001 } },
  ],
  ports: [
    { protocol: 'tcp' as const, hostIp: '', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 },
    { protocol: 'udp' as const, hostIp: '127.0.0.1', hostPort: 53, containerIp: '172.17.0.2', containerPort: 5353 },
  ],
  publishBehindHostFirewall: false,
};

test('the ruleset DNATs published ports for other hosts, the host and containers', () => {
  const text = renderFirewall(base);
  assert.match(text, /meta nfproto ipv4 tcp dport 8080 dnat ip to 172\.17\.0\.2:80/);
  assert.match(text, /ip daddr 127\.0\.0\.1 udp dport 53 dnat ip to 172\.17\.0\.2:5353/);
  assert.match(text, /chain prerouting \{\n {4}type nat hook prerouting[^\n]*\n(.*\n)*? {4}fib daddr type local jump published-ports/);
  assert.match(text, /chain output \{\n[^\n]*\n {4}fib daddr type local jump published-ports/);
  assert.match(text, /oifname "bbxa" ip saddr 127\.0\.0\.0\/8 masquerade/);
  assert.match(text, /oifname "bbxa" ct status dnat ip saddr 172\.17\.0\.0\/16 masquerade/);
});

test('internal networks get no masquerade and are cut off; networks are isolated', () => {
  const text = renderFirewall(base);
  assert.match(text, /oifname != "bbxa" ip saddr 172\.17\.0\.0\/16 masquerade/);
  assert.doesNotMatch(text, /oifname != "bbxb" ip saddr/);
  assert.match(text, /iifname "bbxb" oifname != "bbxb" drop/);
  assert.match(text, /iifname "bbxa" oifname \{ "bbxb" \} drop/);
  // internal drops come before the published-port exception, which comes before isolation
  assert.ok(text.indexOf('oifname "bbxb" iifname != "bbxb" drop') < text.indexOf('ct status dnat accept'));
  assert.ok(text.indexOf('ct status dnat accept') < text.indexOf('iifname "bbxa" oifname { "bbxb" } drop'));
  assert.match(text, /iifname "bbxb" ip daddr 172\.18\.0\.1 udp dport 53 dnat ip to 172\.18\.0\.1:40000/);
  assert.match(text, /iifname != "bbxb" ip daddr 172\.18\.0\.1 tcp dport 40001 drop/);
});

test('behind the host firewall, only bridge traffic is DNATed in prerouting', () => {
  const text = renderFirewall({ ...base, publishBehindHostFirewall: true });
  assert.match(text, /iifname \{ "bbxa", "bbxb" \} fib daddr type local jump published-ports/);
  assert.doesNotMatch(text, /\n {4}fib daddr type local jump published-ports\n {2}\}\n {2}chain output/);
});

test('crafted 127/8 traffic from bridges is dropped; the sandbox table sends 127.0.0.11:53 to the gateway', () => {
  assert.match(renderFirewall(base), /iifname \{ "bbxa", "bbxb" \} ip daddr 127\.0\.0\.0\/8 ct state != \{ established, related \} drop/);
  const inside = renderSandboxDns('172.18.0.1');
  assert.match(inside, /ip daddr 127\.0\.0\.11 udp dport 53 dnat ip to 172\.18\.0\.1:53/);
  assert.match(inside, /ip daddr 127\.0\.0\.11 tcp dport 53 dnat ip to 172\.18\.0\.1:53/);
  assert.match(inside, /oifname != "lo" ct status dnat ip saddr 127\.0\.0\.0\/8 masquerade/);
});

test('IPv6: "::" DNATs everything but ::1 to the container\'s IPv6 address; ::1 is left to the proxy', () => {
  const text = renderFirewall({
    ...base,
    ports: [
      { protocol: 'tcp' as const, hostIp: '::', hostPort: 8080, containerIp: 'fd00::2', containerPort: 80 },
      { protocol: 'tcp' as const, hostIp: '::1', hostPort: 8081, containerIp: 'fd00::2', containerPort: 80 },
    ],
  });
  assert.match(text, /ip6 daddr != ::1 tcp dport 8080 dnat ip6 to \[fd00::2\]:80/);
  assert.doesNotMatch(text, /dport 8081/);
  assert.match(text, /oifname "bbxb" ct status dnat ip6 saddr fd00::\/64 masquerade/);
});
