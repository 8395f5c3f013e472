// Persisted records -> the Docker Engine API's JSON (Network, EndpointSettings, NetworkSettings).
import { EndpointRecord, NetworkRecord, SandboxRecord } from './store.js';
import { EndpointSettings, NetworkContainer, NetworkResource, NetworkSettings, PortBindingJson } from './types.js';

function splitCidr(cidr: string | undefined): { ip: string; prefix: number } {
  if (!cidr) return { ip: '', prefix: 0 };
  const [ip = '', prefix = '0'] = cidr.split('/');
  return { ip, prefix: Number(prefix) };
}

export function dnsNamesOf(sandbox: SandboxRecord, endpoint: EndpointRecord): string[] {
  return [...new Set([sandbox.name, ...endpoint.aliases, sandbox.containerId.slice(0, 12)])].filter((n) => n !== '');
}

/** rootless: how the rootless netns relays published ports (and what the container sees) */
export function portForwardingDescription(network: NetworkRecord, behindHostFirewall: boolean, rootless?: string): string {
  if (network.driver !== 'bridge') return 'none';
  if (rootless !== undefined) return rootless;
  return behindHostFirewall
    ? 'kernel-dnat for the host and containers; userland-proxy for other hosts (behind the host input policy)'
    : 'kernel-dnat';
}

export function toNetworkResource(network: NetworkRecord, sandboxes: readonly SandboxRecord[], behindHostFirewall: boolean,
  rootlessForwarding?: string): NetworkResource {
  const containers: Record<string, NetworkContainer> = {};
  for (const sandbox of sandboxes) {
    for (const ep of sandbox.endpoints) {
      if (ep.networkId !== network.id) continue;
      containers[sandbox.containerId] = {
        Name: sandbox.name,
        EndpointID: ep.id,
        MacAddress: ep.mac,
        IPv4Address: ep.ipv4 ?? '',
        IPv6Address: ep.ipv6 ?? '',
      };
    }
  }
  return {
    Name: network.name,
    Id: network.id,
    Created: network.created,
    Scope: 'local',
    Driver: network.driver,
    EnableIPv4: network.driver === 'bridge',
    EnableIPv6: network.enableIPv6,
    IPAM: {
      Driver: 'default',
      Options: network.predefined ? null : {},
      Config: network.ipam.map((e) => ({
        Subnet: e.Subnet,
        Gateway: e.Gateway,
        ...(e.IPRange ? { IPRange: e.IPRange } : {}),
        ...(e.AuxiliaryAddresses ? { AuxiliaryAddresses: e.AuxiliaryAddresses } : {}),
      })),
    },
    Internal: network.internal,
    Attachable: network.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: {
      ...network.options,
      ...(network.driver === 'bridge' ? { 'berth.port-forwarding': portForwardingDescription(network, behindHostFirewall, rootlessForwarding) } : {}),
    },
    Labels: network.labels,
  };
}

export function toEndpointSettings(sandbox: SandboxRecord, ep: EndpointRecord): EndpointSettings {
  const v4 = splitCidr(ep.ipv4);
  const v6 = splitCidr(ep.ipv6);
  const ipamConfig = ep.requestedIPv4 || ep.requestedIPv6
    ? { ...(ep.requestedIPv4 ? { IPv4Address: ep.requestedIPv4 } : {}), ...(ep.requestedIPv6 ? { IPv6Address: ep.requestedIPv6 } : {}) }
    : null;
  return {
    IPAMConfig: ipamConfig,
    Links: ep.links.length > 0 ? ep.links : null,
    Aliases: ep.aliases.length > 0 ? ep.aliases : null,
    MacAddress: ep.mac,
    DriverOpts: null,
    NetworkID: ep.networkId,
    EndpointID: ep.id,
    Gateway: ep.gateway4 ?? '',
    IPAddress: v4.ip,
    IPPrefixLen: v4.prefix,
    IPv6Gateway: ep.gateway6 ?? '',
    GlobalIPv6Address: v6.ip,
    GlobalIPv6PrefixLen: v6.prefix,
    DNSNames: dnsNamesOf(sandbox, ep),
  };
}

/** Ports map of inspect: every exposed or published port, null when not published. */
export function portsMap(sandbox: SandboxRecord): Record<string, PortBindingJson[] | null> {
  const out: Record<string, PortBindingJson[] | null> = {};
  for (const key of sandbox.exposed) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const p of sandbox.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    const list = out[key] ?? [];
    list.push({ HostIp: p.hostIp === '' ? '0.0.0.0' : p.hostIp, HostPort: String(p.hostPort) });
    out[key] = list;
  }
  return out;
}

export function toNetworkSettings(sandbox: SandboxRecord, networks: ReadonlyMap<string, NetworkRecord>): NetworkSettings {
  const byName: Record<string, EndpointSettings> = {};
  let defaultBridge: EndpointSettings | undefined;
  let bridgeName = '';
  for (const ep of sandbox.endpoints) {
    const network = networks.get(ep.networkId);
    const settings = toEndpointSettings(sandbox, ep);
    byName[network?.name ?? ep.networkId] = settings;
    if (network?.name === 'bridge' && network.predefined) {
      defaultBridge = settings;
      bridgeName = network.bridge ?? '';
    }
  }
  if (sandbox.mode === 'host' || sandbox.mode === 'none') {
    const network = [...networks.values()].find((n) => n.predefined && n.name === sandbox.mode);
    if (network) byName[network.name] = emptyEndpoint(network.id);
  }
  return {
    Bridge: bridgeName,
    SandboxID: sandbox.sandboxId,
    SandboxKey: sandbox.netnsPath ?? '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portsMap(sandbox),
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    // the top-level fields describe the default bridge endpoint only, as in docker
    EndpointID: defaultBridge?.EndpointID ?? '',
    Gateway: defaultBridge?.Gateway ?? '',
    GlobalIPv6Address: defaultBridge?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: defaultBridge?.GlobalIPv6PrefixLen ?? 0,
    IPAddress: defaultBridge?.IPAddress ?? '',
    IPPrefixLen: defaultBridge?.IPPrefixLen ?? 0,
    IPv6Gateway: defaultBridge?.IPv6Gateway ?? '',
    MacAddress: defaultBridge?.MacAddress ?? '',
    Networks: byName,
  };
}

function emptyEndpoint(networkId: string): EndpointSettings {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: networkId,
    EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}
