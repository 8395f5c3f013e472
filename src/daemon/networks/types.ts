// The engine-level networks service: what the API routes and the container lifecycle use.
// JSON shapes follow the Docker Engine API (Network, EndpointSettings, NetworkSettings).
import { z } from 'zod';
import type { RootlessNetworking } from '../../network/rootless-ports.js';

// ---- Docker API shapes -------------------------------------------------------------

export interface IpamConfigEntry {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** GET /networks/{id} */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** POST /networks/create body, validated at the boundary. */
export const networkCreateRequestSchema = z.object({
  Name: z.string().min(1),
  CheckDuplicate: z.boolean().optional(),
  Driver: z.string().optional(),
  Scope: z.string().optional(),
  Internal: z.boolean().optional(),
  Attachable: z.boolean().optional(),
  Ingress: z.boolean().optional(),
  ConfigOnly: z.boolean().optional(),
  EnableIPv4: z.boolean().optional(),
  EnableIPv6: z.boolean().nullable().optional(),
  IPAM: z.object({
    Driver: z.string().optional(),
    Config: z.array(z.object({
      Subnet: z.string().optional(),
      IPRange: z.string().optional(),
      Gateway: z.string().optional(),
      AuxiliaryAddresses: z.record(z.string()).optional(),
    })).nullable().optional(),
    Options: z.record(z.string()).nullable().optional(),
  }).nullable().optional(),
  Options: z.record(z.string()).nullable().optional(),
  Labels: z.record(z.string()).nullable().optional(),
}).passthrough();
export type NetworkCreateRequest = z.infer<typeof networkCreateRequestSchema>;

export interface NetworkCreateResponse {
  Id: string;
  Warning: string;
}

/** EndpointSettings.IPAMConfig / the endpoint part of NetworkingConfig */
export const endpointConfigSchema = z.object({
  IPAMConfig: z.object({
    IPv4Address: z.string().optional(),
    IPv6Address: z.string().optional(),
    LinkLocalIPs: z.array(z.string()).nullable().optional(),
  }).nullable().optional(),
  Links: z.array(z.string()).nullable().optional(),
  Aliases: z.array(z.string()).nullable().optional(),
  MacAddress: z.string().optional(),
  DriverOpts: z.record(z.string()).nullable().optional(),
}).passthrough();
export type EndpointConfig = z.infer<typeof endpointConfigSchema>;

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export interface PortBindingJson {
  HostIp: string;
  HostPort: string;
}

/** Container inspect's NetworkSettings. Ports keys are "80/tcp". */
export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, PortBindingJson[] | null>;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

// ---- the container side ------------------------------------------------------------

/**
 * How a container joins the network at start. The daemon builds this from the container's
 * HostConfig (NetworkMode, PortBindings, PublishAllPorts, Dns*, ExtraHosts, Links) and
 * NetworkingConfig.EndpointsConfig.
 */
export interface SandboxSpec {
  /** container name without the leading slash; registered in DNS and /etc/hosts */
  name: string;
  hostname: string;
  domainname?: string;
  /**
   * HostConfig.NetworkMode: "default" | "bridge" | "host" | "none" | "container:<id>"
   * | a network name or id. For "container:<id>" the daemon resolves the id first.
   */
  networkMode: string;
  /** extra networks to join at start, keyed by network name or id (NetworkingConfig) */
  endpoints?: Record<string, EndpointConfig>;
  /** HostConfig.PortBindings: {"80/tcp": [{HostIp, HostPort}]} */
  portBindings?: Record<string, PortBindingJson[] | null>;
  publishAllPorts?: boolean;
  /** Config.ExposedPorts: {"80/tcp": {}} — published with ephemeral host ports by -P */
  exposedPorts?: Record<string, unknown>;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** "name:ip"; ip may be "host-gateway" */
  extraHosts?: string[];
  /** legacy --link "container:alias" on the default bridge; the daemon resolves names */
  links?: Array<{ name: string; alias: string; containerId: string }>;
}

/** What the runtime needs to start the container, plus inspect's NetworkSettings. */
export interface SandboxInfo {
  containerId: string;
  /**
   * The network namespace file to put in the OCI spec's linux.namespaces
   * ({type: "network", path}). null for host networking (no network namespace entry).
   */
  netnsPath: string | null;
  /** content to bind-mount (or write) as /etc/hosts, /etc/resolv.conf and /etc/hostname */
  hostsContent: string;
  resolvConfContent: string;
  hostnameContent: string;
  settings: NetworkSettings;
}

export type NetworkEventAction = 'create' | 'connect' | 'disconnect' | 'destroy';

export interface NetworkEvent {
  Type: 'network';
  Action: NetworkEventAction;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

export interface NetworksServiceOptions {
  /** persistent state: <dataRoot>/network/... */
  dataRoot: string;
  /** runtime state: <execRoot>/netns/<container-id> */
  execRoot: string;
  /** short name that namespaces host-global names; default derived from dataRoot */
  instance?: string;
  /** default bridge subnet (docker's --bip); default: first free of 172.17.0.0/16... */
  defaultBridgeSubnet?: string;
  mtu?: number;
  /**
   * Keep published ports behind the host's input firewall: traffic from other hosts reaches
   * containers through a userland proxy (a host socket, so INPUT rules apply) instead of a
   * DNAT that bypasses INPUT. Local and container traffic still uses the kernel path.
   */
  publishBehindHostFirewall?: boolean;
  /** resolvers forwarded to for names the embedded DNS does not know; default /etc/resolv.conf */
  upstreamResolvConf?: string;
  /** resolvers to forward to instead ("ip" or "ip#port"): daemon option, and tests' own resolver */
  upstreamDns?: string[];
  onEvent?: (event: NetworkEvent) => void;
  /**
   * Rootless: the bridges, veths, nftables table and embedded DNS live in the daemon's
   * rootless netns; published ports are relayed into it from the host ports berthd binds.
   */
  rootless?: RootlessNetworking;
}

/** The service the daemon wires in (engineer G). Implemented by NetworksService in service.ts. */
export interface NetworksBackend {
  /** sweep leftovers of a previous run and rebuild bridges/firewall; liveContainerIds keep their sandboxes */
  start(liveContainerIds?: readonly string[]): Promise<void>;
  /** stop the DNS server and port reservations; leaves kernel state for running containers */
  close(): Promise<void>;

  create(request: unknown): Promise<NetworkCreateResponse>;
  list(filters?: Record<string, string[]>): Promise<NetworkResource[]>;
  inspect(idOrName: string): Promise<NetworkResource>;
  remove(idOrName: string): Promise<void>;
  prune(filters?: Record<string, string[]>): Promise<{ NetworksDeleted: string[] }>;
  /** resolves a name, full id or unique id prefix; throws not_found NO_SUCH_NETWORK */
  resolve(idOrName: string): Promise<{ id: string; name: string; driver: string }>;

  /** at container start: netns + endpoints + published ports + DNS registration */
  createSandbox(containerId: string, spec: SandboxSpec): Promise<SandboxInfo>;
  /** at container stop/removal: endpoints, ports, DNS names and the netns are released */
  destroySandbox(containerId: string): Promise<void>;
  /** docker network connect/disconnect on a running container */
  connect(containerId: string, network: string, config?: EndpointConfig): Promise<SandboxInfo>;
  disconnect(containerId: string, network: string, force?: boolean): Promise<SandboxInfo | undefined>;
  /** current sandbox of a running container, undefined when it has none */
  sandbox(containerId: string): SandboxInfo | undefined;
}
