// Address arithmetic and allocation for IPv4 and IPv6 subnets (bigint based, pure).
// Leases live in the caller's persisted state; this module only decides.
import { isIPv4, isIPv6 } from 'node:net';
import { conflict, invalidArgument } from '../errors/berth-error.js';

export interface Cidr {
  family: 4 | 6;
  /** the network address (host bits cleared) */
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

export function parseAddress(text: string): { family: 4 | 6; value: bigint } {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (isIPv6(text)) return { family: 6, value: parseIPv6(text) };
  throw invalidArgument('INVALID_ADDRESS', `invalid ip address "${text}"`);
}

function parseIPv6(text: string): bigint {
  let head = text;
  let v4tail: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    v4tail = parseAddress(text.slice(lastColon + 1)).value;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left = '', right] = head.split('::');
  const leftParts = left === '' ? [] : left.split(':');
  const rightParts = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftParts.length - rightParts.length;
  const groups = [...leftParts, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightParts];
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (v4tail !== undefined) value = (value & ~0xffffffffn) | v4tail;
  return value;
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // compress the longest run of zero groups (RFC 5952)
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw invalidArgument('INVALID_SUBNET', `invalid subnet "${text}": expected address/prefix`);
  const { family, value } = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > BITS[family]) throw invalidArgument('INVALID_SUBNET', `invalid prefix length in subnet "${text}"`);
  return { family, network: value & mask(family, prefix), prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.family, cidr.network)}/${cidr.prefix}`;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

export function size(cidr: Cidr): bigint {
  return 1n << BigInt(BITS[cidr.family] - cidr.prefix);
}

export function broadcast(cidr: Cidr): bigint {
  return cidr.network + size(cidr) - 1n;
}

export function contains(cidr: Cidr, family: 4 | 6, value: bigint): boolean {
  return family === cidr.family && value >= cidr.network && value <= broadcast(cidr);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= broadcast(b) && b.network <= broadcast(a);
}

/** docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 split into /20s */
export function* defaultPoolCandidates(): Generator<Cidr> {
  for (let second = 17; second <= 31; second++) yield parseCidr(`172.${second}.0.0/16`);
  for (let third = 0; third < 256; third += 16) yield parseCidr(`192.168.${third}.0/20`);
}

/** The first default pool that overlaps none of `taken` (existing networks and host routes). */
export function pickFreeSubnet(taken: readonly Cidr[]): Cidr {
  for (const candidate of defaultPoolCandidates()) {
    if (!taken.some((t) => overlaps(candidate, t))) return candidate;
  }
  throw conflict('ADDRESS_POOLS_EXHAUSTED', 'all predefined address pools have been fully subnetted');
}

/** A stable unique-local /64 for a network that asked for IPv6 without a subnet. */
export function ulaSubnetFor(seedHex: string): Cidr {
  const hex = seedHex.replace(/[^0-9a-f]/gi, '').padEnd(14, '0').slice(0, 14);
  const value = (0xfdn << 120n) | (BigInt(`0x${hex}`) << 64n);
  return { family: 6, network: value & mask(6, 64), prefix: 64 };
}

export interface PoolConfig {
  subnet: Cidr;
  /** allocate dynamic addresses only from here (must be inside subnet) */
  range?: Cidr;
  gateway: bigint;
}

/** The usable host addresses of a subnet: IPv4 excludes network and broadcast. */
function usableBounds(subnet: Cidr): [bigint, bigint] {
  if (subnet.family === 4 && subnet.prefix < 31) return [subnet.network + 1n, broadcast(subnet) - 1n];
  if (subnet.family === 6) return [subnet.network + 1n, broadcast(subnet)];
  return [subnet.network, broadcast(subnet)];
}

/** Validates subnet/range/gateway text from a create request into a PoolConfig. */
export function makePool(subnetText: string, rangeText: string | undefined, gatewayText: string | undefined): PoolConfig {
  const subnet = parseCidr(subnetText);
  let range: Cidr | undefined;
  if (rangeText) {
    range = parseCidr(rangeText);
    if (range.family !== subnet.family || range.network < subnet.network || broadcast(range) > broadcast(subnet)) {
      throw invalidArgument('INVALID_IP_RANGE', `ip range ${rangeText} is not inside subnet ${subnetText}`);
    }
  }
  let gateway: bigint;
  if (gatewayText) {
    const gw = parseAddress(gatewayText);
    if (!contains(subnet, gw.family, gw.value)) throw invalidArgument('INVALID_GATEWAY', `gateway ${gatewayText} is not inside subnet ${subnetText}`);
    gateway = gw.value;
  } else {
    gateway = usableBounds(subnet)[0];
  }
  return { subnet, range, gateway };
}

/**
 * Picks an address: the requested one if free and inside the subnet, else the first free one
 * of the range (or subnet). `used` holds every leased, gateway and auxiliary address.
 */
export function allocateAddress(pool: PoolConfig, used: ReadonlySet<bigint>, requested?: string): bigint {
  const cidrText = formatCidr(pool.subnet);
  if (requested) {
    const want = parseAddress(requested);
    if (!contains(pool.subnet, want.family, want.value)) {
      throw invalidArgument('ADDRESS_OUT_OF_SUBNET', `requested address ${requested} is not inside subnet ${cidrText}`);
    }
    if (want.value === pool.gateway || used.has(want.value)) throw conflict('ADDRESS_IN_USE', `address ${requested} is already in use in subnet ${cidrText}`);
    const [low, high] = usableBounds(pool.subnet);
    if (want.value < low || want.value > high) throw invalidArgument('ADDRESS_RESERVED', `address ${requested} is reserved in subnet ${cidrText}`);
    return want.value;
  }
  // a range is used whole; only the subnet's own network/broadcast addresses are excluded
  const [low, high] = pool.range ? [pool.range.network, broadcast(pool.range)] : usableBounds(pool.subnet);
  const [subLow, subHigh] = usableBounds(pool.subnet);
  const start = low < subLow ? subLow : low;
  const end = high > subHigh ? subHigh : high;
  for (let candidate = start; candidate <= end; candidate++) {
    if (candidate !== pool.gateway && !used.has(candidate)) return candidate;
  }
  throw conflict('ADDRESS_POOL_FULL', `no free address left in ${formatCidr(pool.range ?? pool.subnet)}`);
}

/** A locally administered MAC derived from an IPv4 address, as docker does (02:42:...). */
export function macForAddress(ipv4: bigint): string {
  const bytes = [0x02, 0x42, Number((ipv4 >> 24n) & 255n), Number((ipv4 >> 16n) & 255n), Number((ipv4 >> 8n) & 255n), Number(ipv4 & 255n)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function isValidMac(text: string): boolean {
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(text) && (parseInt(text.slice(0, 2), 16) & 1) === 0;
}
