// The one nftables table a berth instance owns, rendered whole from the current model and
// applied atomically (nft -f). Pure: the same model always gives the same text.
import { PortProtocol } from './ports.js';

export interface FirewallNetwork {
  bridge: string;
  subnets4: string[];
  subnets6: string[];
  /** --internal: nothing in or out of the bridge */
  internal: boolean;
  /** masquerade traffic leaving the host (docker's com.docker.network.bridge.enable_ip_masquerade) */
  masquerade: boolean;
  /** embedded DNS: gateway:53 is redirected to the server's real port */
  dns?: { gateway: string; udpPort: number; tcpPort: number };
}

export interface FirewallPort {
  protocol: PortProtocol;
  /** "" = every local address */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface FirewallModel {
  table: string;
  networks: FirewallNetwork[];
  ports: FirewallPort[];
  /**
   * When set, external traffic to published ports is not DNATed (a userland proxy on a host
   * socket serves it, behind the INPUT policy); only traffic from our bridges is.
   */
  publishBehindHostFirewall: boolean;
}

export const FIREWALL_FAMILY = 'inet';

function quote(name: string): string {
  return `"${name}"`;
}

function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** The kernel cannot route ::1 out of lo (IPv6 has no route_localnet): a host socket proxies it. */
export function servedByProxyOnly(hostIp: string): boolean {
  return hostIp === '::1';
}

function dnatRule(port: FirewallPort): string {
  const fam = isV6(port.containerIp) ? 'ip6' : 'ip';
  const target = fam === 'ip6' ? `[${port.containerIp}]:${port.containerPort}` : `${port.containerIp}:${port.containerPort}`;
  const wildcard = port.hostIp === '' || port.hostIp === '0.0.0.0' || port.hostIp === '::';
  const match = !wildcard ? `${isV6(port.hostIp) ? 'ip6' : 'ip'} daddr ${port.hostIp}`
    : fam === 'ip6' ? 'ip6 daddr != ::1' : 'meta nfproto ipv4';
  return `${match} ${port.protocol} dport ${port.hostPort} dnat ${fam} to ${target}`;
}

/** The table body (chains), without the `table inet NAME { }` wrapper. */
export function renderFirewall(model: FirewallModel): string {
  const bridges = model.networks.map((n) => n.bridge);
  const bridgeSet = bridges.length > 0 ? `{ ${bridges.map(quote).join(', ')} }` : undefined;
  const lines: string[] = [];
  const chain = (name: string, header: string | undefined, rules: string[]): void => {
    lines.push(`  chain ${name} {`);
    if (header) lines.push(`    ${header}`);
    for (const rule of rules) lines.push(`    ${rule}`);
    lines.push('  }');
  };

  const portRules = model.ports.filter((p) => !servedByProxyOnly(p.hostIp)).map(dnatRule);
  chain('published-ports', undefined, portRules);

  const prerouting: string[] = [];
  for (const net of model.networks) {
    if (!net.dns) continue;
    prerouting.push(`iifname ${quote(net.bridge)} ip daddr ${net.dns.gateway} udp dport 53 dnat ip to ${net.dns.gateway}:${net.dns.udpPort}`);
    prerouting.push(`iifname ${quote(net.bridge)} ip daddr ${net.dns.gateway} tcp dport 53 dnat ip to ${net.dns.gateway}:${net.dns.tcpPort}`);
  }
  if (model.publishBehindHostFirewall) {
    if (bridgeSet) prerouting.push(`iifname ${bridgeSet} fib daddr type local jump published-ports`);
  } else {
    prerouting.push('fib daddr type local jump published-ports');
  }
  chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', prerouting);
  // the host itself, including 127.0.0.1 (needs route_localnet on the bridge, set by the kernel layer)
  chain('output', 'type nat hook output priority -100; policy accept;', ['fib daddr type local jump published-ports']);

  const postrouting: string[] = [];
  for (const net of model.networks) {
    const br = quote(net.bridge);
    postrouting.push(`oifname ${br} ip saddr 127.0.0.0/8 masquerade`);
    for (const subnet of net.subnets4) {
      // hairpin: a container reaching a published port of its own network gets a reply path
      postrouting.push(`oifname ${br} ct status dnat ip saddr ${subnet} masquerade`);
      if (net.masquerade && !net.internal) postrouting.push(`oifname != ${br} ip saddr ${subnet} masquerade`);
    }
    for (const subnet of net.subnets6) {
      postrouting.push(`oifname ${br} ct status dnat ip6 saddr ${subnet} masquerade`);
      if (net.masquerade && !net.internal) postrouting.push(`oifname != ${br} ip6 saddr ${subnet} masquerade`);
    }
  }
  chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', postrouting);

  // the embedded DNS of a network answers its own bridge only (names are network-scoped)
  const input: string[] = [];
  // route_localnet on the bridges (for published 127.0.0.1) must not let a container reach the
  // host's loopback services with crafted packets (CVE-2020-8558); replies of the host's own
  // connections to published ports arrive here already un-NATed to 127.0.0.1, and are established
  if (bridgeSet) input.push(`iifname ${bridgeSet} ip daddr 127.0.0.0/8 ct state != { established, related } drop`);
  for (const net of model.networks) {
    if (!net.dns) continue;
    input.push(`iifname != ${quote(net.bridge)} ip daddr ${net.dns.gateway} udp dport ${net.dns.udpPort} drop`);
    input.push(`iifname != ${quote(net.bridge)} ip daddr ${net.dns.gateway} tcp dport ${net.dns.tcpPort} drop`);
  }
  chain('input', 'type filter hook input priority filter; policy accept;', input);

  const forward: string[] = [];
  for (const net of model.networks) {
    if (!net.internal) continue;
    const br = quote(net.bridge);
    forward.push(`iifname ${br} oifname != ${br} drop`);
    forward.push(`oifname ${br} iifname != ${br} drop`);
  }
  // a published port is open to every network (it is open to the world): connections that
  // came through its DNAT may cross bridges, replies included (same conntrack entry)
  if (model.ports.length > 0) forward.push('ct status dnat accept');
  for (const net of model.networks) {
    const others = bridges.filter((b) => b !== net.bridge);
    // isolation between networks, as docker's DOCKER-ISOLATION chains
    if (others.length > 0) forward.push(`iifname ${quote(net.bridge)} oifname { ${others.map(quote).join(', ')} } drop`);
  }
  chain('forward', 'type filter hook forward priority filter; policy accept;', forward);
  return lines.join('\n');
}

/** Where containers on user-defined networks send DNS queries, as with docker. */
export const EMBEDDED_DNS_ADDRESS = '127.0.0.11';
/** The table berth keeps inside a container's network namespace (the namespace is its own). */
export const SANDBOX_DNS_TABLE = 'berth-dns';

/**
 * The body of the table inside a container's netns that sends 127.0.0.11:53 to the embedded
 * DNS server at `gateway`:53 (the host's table redirects that to the server's real ports, which
 * change when berthd restarts; this one never has to). The loopback source is masqueraded to
 * the container's address, so the server knows who asks; leaving through eth* with a 127/8
 * source needs route_localnet, and the input rule keeps neighbours from using it to reach the
 * container's loopback services (CVE-2020-8558).
 */
export function renderSandboxDns(gateway: string): string {
  return [
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr ${EMBEDDED_DNS_ADDRESS} udp dport 53 dnat ip to ${gateway}:53`,
    `    ip daddr ${EMBEDDED_DNS_ADDRESS} tcp dport 53 dnat ip to ${gateway}:53`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    '    oifname != "lo" ct status dnat ip saddr 127.0.0.0/8 masquerade',
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname != "lo" ip daddr 127.0.0.0/8 ct state != { established, related } drop',
    '  }',
  ].join('\n');
}
