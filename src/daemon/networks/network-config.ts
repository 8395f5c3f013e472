// A validated `POST /networks/create` body -> a NetworkRecord (subnets chosen, options read).
import { randomBytes } from 'node:crypto';
import { BerthError, conflict, invalidArgument } from '../../errors/berth-error.js';
import {
  broadcast, Cidr, contains, formatAddress, formatCidr, makePool, overlaps, parseAddress, parseCidr, pickFreeSubnet, ulaSubnetFor,
} from '../../network/ipam.js';
import { IpamEntry, NetworkRecord } from './store.js';
import { NetworkCreateRequest, networkCreateRequestSchema } from './types.js';

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const DEFAULT_MTU = 1500;

const OPT_MTU = 'com.docker.network.driver.mtu';
const OPT_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';

export function parseCreateRequest(body: unknown): NetworkCreateRequest {
  const parsed = networkCreateRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidArgument('INVALID_NETWORK_CONFIG', `invalid network create request: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'malformed'}`);
  }
  const request = parsed.data;
  if (!NAME_PATTERN.test(request.Name)) {
    throw invalidArgument('INVALID_NETWORK_NAME', `invalid network name "${request.Name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return request;
}

export function subnetsOf(network: NetworkRecord): Cidr[] {
  return network.ipam.map((e) => parseCidr(e.Subnet));
}

function readOptions(options: Record<string, string>, defaultMtu: number): { mtu: number; masquerade: boolean } {
  if (options[OPT_BRIDGE_NAME] !== undefined) {
    throw invalidArgument('UNSUPPORTED_OPTION', `option ${OPT_BRIDGE_NAME} is not supported: berth names bridges per daemon instance`);
  }
  let mtu = defaultMtu;
  if (options[OPT_MTU] !== undefined) {
    mtu = Number(options[OPT_MTU]);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw invalidArgument('INVALID_MTU', `invalid mtu "${options[OPT_MTU]}": expected 68-65535`);
  }
  const masqueradeText = options[OPT_MASQUERADE] ?? 'true';
  if (masqueradeText !== 'true' && masqueradeText !== 'false') {
    throw invalidArgument('INVALID_OPTION', `invalid ${OPT_MASQUERADE} "${masqueradeText}": expected true or false`);
  }
  return { mtu, masquerade: masqueradeText === 'true' };
}

/** Checks one IPAM entry against the others of the host and fills in its gateway. */
function completeEntry(entry: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }, taken: readonly { cidr: Cidr; owner: string }[]): IpamEntry {
  if (!entry.Subnet) throw invalidArgument('INVALID_IPAM', 'an IPAM config entry with a gateway or ip range needs a subnet');
  const pool = makePool(entry.Subnet, entry.IPRange, entry.Gateway);
  const clash = taken.find((t) => overlaps(t.cidr, pool.subnet));
  if (clash) {
    throw conflict('SUBNET_OVERLAP', `invalid pool request: subnet ${entry.Subnet} overlaps with ${formatCidr(clash.cidr)} of network ${clash.owner}`);
  }
  for (const [name, aux] of Object.entries(entry.AuxiliaryAddresses ?? {})) {
    const address = parseAddress(aux);
    if (!contains(pool.subnet, address.family, address.value)) {
      throw invalidArgument('INVALID_AUX_ADDRESS', `auxiliary address ${name}=${aux} is not inside subnet ${entry.Subnet}`);
    }
  }
  if (pool.subnet.family === 4 && pool.subnet.prefix > 30) {
    throw invalidArgument('SUBNET_TOO_SMALL', `subnet ${entry.Subnet} is too small for a bridge network`);
  }
  if (pool.subnet.family === 4 && pool.gateway === broadcast(pool.subnet)) {
    throw invalidArgument('INVALID_GATEWAY', `gateway ${entry.Gateway ?? ''} is the broadcast address of ${entry.Subnet}`);
  }
  return {
    Subnet: formatCidr(pool.subnet),
    Gateway: formatAddress(pool.subnet.family, pool.gateway),
    ...(entry.IPRange ? { IPRange: formatCidr(parseCidr(entry.IPRange)) } : {}),
    ...(entry.AuxiliaryAddresses ? { AuxiliaryAddresses: entry.AuxiliaryAddresses } : {}),
  };
}

export interface ConfigContext {
  existing: readonly NetworkRecord[];
  /** host routes, which an automatically chosen subnet must not overlap */
  hostRoutes: readonly Cidr[];
  defaultMtu: number;
  bridgeName(id: string): string;
}

/** A user-defined network; throws a clear error for every bad field, before anything is made. */
export function buildNetworkRecord(request: NetworkCreateRequest, ctx: ConfigContext): NetworkRecord {
  if (ctx.existing.some((n) => n.name === request.Name)) {
    throw conflict('NETWORK_EXISTS', `network with name ${request.Name} already exists`);
  }
  const driver = request.Driver ?? 'bridge';
  if (driver === 'host' || driver === 'null' || driver === 'none') {
    throw new BerthError('forbidden', 'PREDEFINED_DRIVER', `only one instance of "${driver}" network is allowed`);
  }
  if (driver !== 'bridge') throw invalidArgument('UNKNOWN_DRIVER', `network driver "${driver}" is not supported (berth has bridge, host and null)`);
  if (request.IPAM?.Driver && request.IPAM.Driver !== 'default') {
    throw invalidArgument('UNKNOWN_IPAM_DRIVER', `ipam driver "${request.IPAM.Driver}" is not supported`);
  }
  const options = request.Options ?? {};
  const { mtu, masquerade } = readOptions(options, ctx.defaultMtu);
  const id = randomBytes(32).toString('hex');
  const taken = ctx.existing.flatMap((n) => subnetsOf(n).map((cidr) => ({ cidr, owner: n.name })));
  const entries: IpamEntry[] = [];
  for (const entry of request.IPAM?.Config ?? []) {
    const done = completeEntry(entry, [...taken, ...entries.map((e) => ({ cidr: parseCidr(e.Subnet), owner: request.Name }))]);
    entries.push(done);
  }
  const enableIPv6 = request.EnableIPv6 === true;
  const has4 = entries.some((e) => parseCidr(e.Subnet).family === 4);
  const has6 = entries.some((e) => parseCidr(e.Subnet).family === 6);
  if (has6 && !enableIPv6) throw invalidArgument('IPV6_NOT_ENABLED', `network ${request.Name} has an IPv6 subnet but IPv6 is not enabled (--ipv6)`);
  if (!has4) {
    const subnet = pickFreeSubnet([...taken.map((t) => t.cidr), ...ctx.hostRoutes]);
    entries.unshift(completeEntry({ Subnet: formatCidr(subnet) }, taken));
  }
  if (enableIPv6 && !has6) entries.push(completeEntry({ Subnet: formatCidr(ulaSubnetFor(id.slice(0, 14))) }, taken));
  return {
    id,
    name: request.Name,
    driver: 'bridge',
    created: new Date().toISOString(),
    internal: request.Internal === true,
    attachable: request.Attachable === true,
    enableIPv6,
    bridge: ctx.bridgeName(id),
    mtu,
    masquerade,
    predefined: false,
    ipam: entries,
    options,
    labels: request.Labels ?? {},
  };
}

/** The predefined networks "bridge", "host" and "none" (created once per data root). */
export function predefinedNetwork(name: 'bridge' | 'host' | 'none', ctx: ConfigContext, bridgeSubnet?: string): NetworkRecord {
  const id = randomBytes(32).toString('hex');
  const base = {
    id, name, created: new Date().toISOString(), internal: false, attachable: false, enableIPv6: false,
    mtu: ctx.defaultMtu, masquerade: true, predefined: true, options: {}, labels: {},
  };
  if (name === 'host') return { ...base, driver: 'host', ipam: [] };
  if (name === 'none') return { ...base, driver: 'null', ipam: [] };
  const taken = ctx.existing.flatMap((n) => subnetsOf(n).map((cidr) => ({ cidr, owner: n.name })));
  const subnet = bridgeSubnet ? parseCidr(bridgeSubnet) : pickFreeSubnet([...taken.map((t) => t.cidr), ...ctx.hostRoutes]);
  // --bip names the gateway with its prefix (172.30.5.1/16); a bare network gets the first host
  const bipAddress = bridgeSubnet ? parseAddress(bridgeSubnet.split('/')[0] ?? '') : undefined;
  const gateway = bipAddress && bipAddress.value !== subnet.network ? formatAddress(subnet.family, bipAddress.value) : undefined;
  return {
    ...base,
    driver: 'bridge',
    bridge: ctx.bridgeName(id),
    ipam: [completeEntry({ Subnet: formatCidr(subnet), ...(gateway ? { Gateway: gateway } : {}) }, taken)],
    options: {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.driver.mtu': String(ctx.defaultMtu),
    },
  };
}
