// Choosing an endpoint's addresses and MAC on a network, from the leases already held. Pure.
import {
  allocateAddress, formatAddress, isValidMac, macForAddress, makePool, parseAddress, parseCidr, PoolConfig,
} from '../../network/ipam.js';
import { invalidArgument } from '../../errors/berth-error.js';
import { EndpointRecord, NetworkRecord, SandboxRecord } from './store.js';
import { EndpointConfig } from './types.js';

export interface NetworkPools {
  v4?: PoolConfig;
  v6?: PoolConfig;
}

export function poolsOf(network: NetworkRecord): NetworkPools {
  const pools: NetworkPools = {};
  for (const entry of network.ipam) {
    const pool = makePool(entry.Subnet, entry.IPRange, entry.Gateway);
    if (pool.subnet.family === 4) pools.v4 ??= pool;
    else pools.v6 ??= pool;
  }
  return pools;
}

/** Every address of the network that is not free: leases, gateways and auxiliary addresses. */
export function usedAddresses(network: NetworkRecord, sandboxes: readonly SandboxRecord[]): Set<bigint> {
  const used = new Set<bigint>();
  for (const entry of network.ipam) {
    used.add(parseAddress(entry.Gateway).value);
    for (const aux of Object.values(entry.AuxiliaryAddresses ?? {})) used.add(parseAddress(aux).value);
  }
  for (const sandbox of sandboxes) {
    for (const ep of sandbox.endpoints) {
      if (ep.networkId !== network.id) continue;
      if (ep.ipv4) used.add(parseAddress(ep.ipv4.split('/')[0] ?? '').value);
      if (ep.ipv6) used.add(parseAddress(ep.ipv6.split('/')[0] ?? '').value);
    }
  }
  return used;
}

export interface EndpointNames {
  endpointId: string;
  hostIfName: string;
  ifName: string;
}

export function allocateEndpoint(
  network: NetworkRecord,
  sandboxes: readonly SandboxRecord[],
  config: EndpointConfig | undefined,
  names: EndpointNames,
): EndpointRecord {
  const pools = poolsOf(network);
  const used = usedAddresses(network, sandboxes);
  const requested4 = config?.IPAMConfig?.IPv4Address || undefined;
  const requested6 = config?.IPAMConfig?.IPv6Address || undefined;
  if ((requested4 || requested6) && network.predefined) {
    throw invalidArgument('STATIC_IP_ON_DEFAULT', `user specified ip address is supported only on user defined networks, not on "${network.name}"`);
  }
  let ipv4: string | undefined;
  let gateway4: string | undefined;
  let macSeed: bigint | undefined;
  if (pools.v4) {
    const value = allocateAddress(pools.v4, used, requested4);
    ipv4 = `${formatAddress(4, value)}/${pools.v4.subnet.prefix}`;
    gateway4 = formatAddress(4, pools.v4.gateway);
    macSeed = value;
  } else if (requested4) {
    throw invalidArgument('NO_IPV4_SUBNET', `network ${network.name} has no IPv4 subnet for ${requested4}`);
  }
  let ipv6: string | undefined;
  let gateway6: string | undefined;
  if (pools.v6 && network.enableIPv6) {
    const value = allocateAddress(pools.v6, used, requested6);
    ipv6 = `${formatAddress(6, value)}/${pools.v6.subnet.prefix}`;
    gateway6 = formatAddress(6, pools.v6.gateway);
  } else if (requested6) {
    throw invalidArgument('NO_IPV6_SUBNET', `network ${network.name} is not IPv6-enabled; cannot assign ${requested6}`);
  }
  let mac = config?.MacAddress || '';
  if (mac !== '') {
    if (!isValidMac(mac)) throw invalidArgument('INVALID_MAC', `invalid mac address "${mac}": expected a unicast xx:xx:xx:xx:xx:xx`);
    mac = mac.toLowerCase();
  } else {
    mac = macForAddress(macSeed ?? BigInt(`0x${names.endpointId.slice(0, 8)}`));
  }
  return {
    id: names.endpointId,
    networkId: network.id,
    hostIfName: names.hostIfName,
    ifName: names.ifName,
    mac,
    ipv4, gateway4, ipv6, gateway6,
    aliases: [...new Set(config?.Aliases ?? [])],
    links: config?.Links ?? [],
    requestedIPv4: requested4,
    requestedIPv6: requested6,
  };
}

/** true when the CIDR text is valid and of the given family (for create validation) */
export function cidrFamily(text: string): 4 | 6 {
  return parseCidr(text).family;
}
