// The engine's networks service: Docker's network API (create/list/inspect/remove/prune)
// and the container side (sandboxes: a netns with endpoints, published ports and names).
// Every mutation runs under one lock, is persisted atomically and ends with the firewall
// table rebuilt whole, so the kernel state always follows the records.
import path from 'node:path';
import { BerthError, conflict, notFound, withCleanup } from '../../errors/berth-error.js';
import { EmbeddedDns, DnsListener, DnsZone, NameRecords } from '../../network/dns-server.js';
import { parseResolvConf } from '../../network/etc-files.js';
import { FIREWALL_FAMILY, FirewallModel, renderFirewall } from '../../network/firewall.js';
import { Cidr, parseCidr } from '../../network/ipam.js';
import { ChangedFile } from '../../util/changed-file.js';
import { IpKernel, listNetnsFiles, NetworkKernel } from '../../network/kernel.js';
import { instanceFromDataRoot, instanceNames, InstanceNames } from '../../network/names.js';
import { Reservation } from '../../network/port-reserver.js';
import { matchesListFilters, matchesPruneFilters } from './filters.js';
import { buildNetworkRecord, ConfigContext, DEFAULT_MTU, parseCreateRequest, predefinedNetwork } from './network-config.js';
import { SandboxOps } from './sandboxes.js';
import { dnsNamesOf, toNetworkResource, toNetworkSettings } from './shapes.js';
import { NetworkRecord, NetworkStore, SandboxRecord } from './store.js';
import {
  EndpointConfig, NetworkCreateResponse, NetworkEvent, NetworkEventAction, NetworkResource, NetworksBackend,
  NetworksServiceOptions, SandboxInfo, SandboxSpec,
} from './types.js';

/** Mutable state shared by the service and its sandbox operations. */
export interface NetworkState {
  readonly options: NetworksServiceOptions;
  readonly names: InstanceNames;
  readonly kernel: NetworkKernel;
  readonly store: NetworkStore;
  readonly networks: Map<string, NetworkRecord>;
  readonly sandboxes: Map<string, SandboxRecord>;
  /** released sandboxes whose veths are still being deleted, by sandbox id: their addresses are taken */
  readonly draining: Map<string, SandboxRecord>;
  readonly reservations: Map<string, Reservation[]>;
  readonly netnsDir: string;
  /** resolves once every draining sandbox's veths are gone */
  drained(): Promise<void>;
  resolveNetwork(idOrName: string): NetworkRecord;
  applyFirewall(): Promise<void>;
  emit(action: NetworkEventAction, network: NetworkRecord, attributes?: Record<string, string>): void;
  hostResolvConf(): Promise<string>;
}

export class NetworksService implements NetworksBackend, NetworkState {
  readonly names: InstanceNames;
  readonly kernel: NetworkKernel;
  readonly store: NetworkStore;
  readonly networks = new Map<string, NetworkRecord>();
  readonly sandboxes = new Map<string, SandboxRecord>();
  readonly draining = new Map<string, SandboxRecord>();
  readonly reservations = new Map<string, Reservation[]>();
  readonly netnsDir: string;
  private readonly drains = new Set<Promise<void>>();
  private readonly dnsListeners = new Map<string, DnsListener>();
  private readonly sandboxOps: SandboxOps;
  private dns: EmbeddedDns | undefined;
  /** the host's resolv.conf, copied into every sandbox: read again only when it changed */
  private readonly upstreamResolvConf: ChangedFile;
  private readonly listenDns: ((address: string, zone: DnsZone) => Promise<DnsListener>) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** the table body last applied, so unchanged rules cost nothing */
  private appliedFirewall: string | undefined;

  constructor(
    readonly options: NetworksServiceOptions,
    deps: { kernel?: NetworkKernel; listenDns?: (address: string, zone: DnsZone) => Promise<DnsListener> } = {},
  ) {
    this.listenDns = deps.listenDns;
    this.names = instanceNames(options.instance ?? instanceFromDataRoot(path.resolve(options.dataRoot)));
    // rootless: bridges, veths and the table live in the daemon's rootless netns
    this.kernel = deps.kernel ?? new IpKernel(options.rootless ? { netns: options.rootless.netnsPath } : {});
    this.store = new NetworkStore(options.dataRoot);
    this.netnsDir = path.join(options.execRoot, 'netns');
    this.sandboxOps = new SandboxOps(this);
    this.upstreamResolvConf = new ChangedFile(options.upstreamResolvConf ?? '/etc/resolv.conf');
  }

  private async releaseSandbox(sandbox: SandboxRecord): Promise<void> {
    await this.sandboxOps.release(sandbox);
  }

  /** Runs fn after every earlier mutation finished (one writer at a time). */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The veths of a released sandbox are deleted in the background (the kernel waits out RCU
   * grace periods, 15-40 ms per veth, and neither a container's stop nor the next start
   * should wait for that); until they are gone their addresses are not leased again.
   */
  private drain(sandbox: SandboxRecord, links: Promise<void>): void {
    this.draining.set(sandbox.sandboxId, sandbox);
    const done: Promise<void> = links.catch((err: unknown) => {
      // nobody waits for it any more; the start-up sweep and `system check` find what is left
      process.emitWarning(`berth: deleting the veths of container ${sandbox.containerId}: ${err instanceof Error ? err.message : String(err)}`);
    }).finally(() => {
      this.draining.delete(sandbox.sandboxId);
      this.drains.delete(done);
    });
    this.drains.add(done);
  }

  /** every background veth deletion finished */
  async drained(): Promise<void> {
    await Promise.all([...this.drains]);
  }

  // ---- lifecycle ------------------------------------------------------------------

  async start(liveContainerIds: readonly string[] = []): Promise<void> {
    await this.serialize(async () => {
      for (const n of await this.store.loadNetworks()) this.networks.set(n.id, n);
      for (const s of await this.store.loadSandboxes()) this.sandboxes.set(s.containerId, s);
      await this.ensurePredefined();
      const live = new Set(liveContainerIds);
      await this.kernel.setSysctl('net/ipv4/ip_forward', '1');
      await this.sweep(live);
      for (const network of this.networks.values()) await this.bringUpNetwork(network);
      await this.sandboxOps.restorePorts();
      await this.applyFirewall();
    });
  }

  async close(): Promise<void> {
    await this.serialize(async () => {
      await this.drained();
      for (const listener of this.dnsListeners.values()) await listener.close();
      this.dnsListeners.clear();
      for (const list of this.reservations.values()) for (const r of list) await r.close();
      this.reservations.clear();
    });
  }

  /**
   * Removes everything this instance made on the host: sandboxes, bridges, the firewall
   * table (records of user-defined networks stay). For tests and `berthd --cleanup`.
   */
  async teardown(): Promise<void> {
    await this.serialize(async () => {
      await this.drained();
      for (const sandbox of [...this.sandboxes.values()]) await this.releaseSandbox(sandbox);
      for (const listener of this.dnsListeners.values()) await listener.close();
      this.dnsListeners.clear();
      for (const network of this.networks.values()) if (network.bridge) await this.kernel.deleteLink(network.bridge);
      await this.kernel.deleteFirewall(FIREWALL_FAMILY, this.names.table);
      this.appliedFirewall = undefined;
    });
  }

  /**
   * After a crash: sandboxes of containers that are not running are released, and links,
   * netns files and bridges of this instance that no record explains are removed.
   */
  private async sweep(live: ReadonlySet<string>): Promise<void> {
    for (const sandbox of [...this.sandboxes.values()]) {
      if (!live.has(sandbox.containerId)) await this.releaseSandbox(sandbox);
    }
    const keepVeths = new Set([...this.sandboxes.values()].flatMap((s) => s.endpoints.map((e) => e.hostIfName)));
    for (const link of await this.kernel.listLinks(this.names.vethPrefix)) {
      if (!keepVeths.has(link)) await this.kernel.deleteLink(link);
    }
    const keepBridges = new Set([...this.networks.values()].flatMap((n) => (n.bridge ? [n.bridge] : [])));
    for (const link of await this.kernel.listLinks(this.names.bridgePrefix)) {
      if (!keepBridges.has(link)) await this.kernel.deleteLink(link);
    }
    const keepNetns = new Set([...this.sandboxes.values()].flatMap((s) => (s.netnsPath && s.mode !== 'container' ? [s.netnsPath] : [])));
    for (const file of await listNetnsFiles(this.netnsDir)) {
      if (!keepNetns.has(file)) await this.kernel.destroyNetns(file);
    }
  }

  private configContext(): ConfigContext {
    return {
      existing: [...this.networks.values()],
      hostRoutes: [],
      defaultMtu: this.options.mtu ?? DEFAULT_MTU,
      bridgeName: (id) => this.names.bridge(id),
    };
  }

  private async hostRoutes(): Promise<Cidr[]> {
    const own = new Set([...this.networks.values()].flatMap((n) => n.ipam.map((e) => e.Subnet)));
    const out: Cidr[] = [];
    for (const route of await this.kernel.hostRoutes()) {
      try {
        const cidr = parseCidr(route);
        if (!own.has(route)) out.push(cidr);
      } catch {
        // routes iproute2 prints in forms we do not need (e.g. multicast) are skipped
      }
    }
    return out;
  }

  private async ensurePredefined(): Promise<void> {
    const all = [...this.networks.values()];
    for (const name of ['bridge', 'host', 'none'] as const) {
      if (all.some((n) => n.predefined && n.name === name)) continue;
      const ctx = { ...this.configContext(), hostRoutes: name === 'bridge' ? await this.hostRoutes() : [] };
      const record = predefinedNetwork(name, ctx, name === 'bridge' ? this.options.defaultBridgeSubnet : undefined);
      await this.store.saveNetwork(record);
      this.networks.set(record.id, record);
    }
  }

  /** The bridge with its gateway addresses, and the embedded DNS of a user-defined network. */
  private async bringUpNetwork(network: NetworkRecord): Promise<void> {
    if (network.driver !== 'bridge' || !network.bridge) return;
    await this.kernel.ensureBridge({
      name: network.bridge,
      mtu: network.mtu,
      addresses: network.ipam.map((e) => `${e.Gateway}/${e.Subnet.split('/')[1] ?? ''}`),
    });
    if (network.enableIPv6) await this.kernel.setSysctl('net/ipv6/conf/all/forwarding', '1');
    if (!network.predefined && !this.dnsListeners.has(network.id)) {
      const gateway = network.ipam.find((e) => !e.Gateway.includes(':'))?.Gateway;
      if (!gateway) return;
      const zone = this.zoneOf(network.id);
      const listener = this.listenDns ? await this.listenDns(gateway, zone)
        : await (await this.embeddedDns()).listen(gateway, zone, this.options.rootless?.dnsSockets(gateway));
      this.dnsListeners.set(network.id, listener);
    }
  }

  private async embeddedDns(): Promise<EmbeddedDns> {
    if (!this.dns) {
      const upstreams = this.options.upstreamDns ?? parseResolvConf(await this.hostResolvConf()).nameservers;
      this.dns = new EmbeddedDns(upstreams);
    }
    return this.dns;
  }

  async hostResolvConf(): Promise<string> {
    return await this.upstreamResolvConf.read();
  }

  /**
   * The names a query on this network's server may see. A container asks through 127.0.0.11,
   * reaching the server of its first user-defined network from its address there: it sees the
   * names of every network it is on, as with docker's per-container resolver. Any other asker
   * sees this network's names only.
   */
  private scopeOf(networkId: string, client: string | undefined): { networks: string[]; sandbox: SandboxRecord | undefined } {
    const asking = client === undefined ? undefined : [...this.sandboxes.values()].find((s) =>
      s.endpoints.some((e) => e.networkId === networkId && e.ipv4?.split('/')[0] === client));
    const others = (asking?.endpoints ?? []).map((e) => e.networkId).filter((id) => id !== networkId && !this.networks.get(id)?.predefined);
    return { networks: [networkId, ...others], sandbox: asking };
  }

  private zoneOf(networkId: string): DnsZone {
    return {
      lookup: (name, client) => {
        for (const scoped of this.scopeOf(networkId, client).networks) {
          const records: NameRecords = { a: [], aaaa: [] };
          let found = false;
          for (const sandbox of this.sandboxes.values()) {
            for (const ep of sandbox.endpoints) {
              if (ep.networkId !== scoped || !dnsNamesOf(sandbox, ep).some((n) => n.toLowerCase() === name)) continue;
              found = true;
              if (ep.ipv4) records.a.push(ep.ipv4.split('/')[0] ?? '');
              if (ep.ipv6) records.aaaa.push(ep.ipv6.split('/')[0] ?? '');
            }
          }
          if (found) return records;
        }
        return undefined;
      },
      reverse: (ip, client) => {
        for (const scoped of this.scopeOf(networkId, client).networks) {
          const network = this.networks.get(scoped);
          for (const sandbox of this.sandboxes.values()) {
            const ep = sandbox.endpoints.find((e) => e.networkId === scoped && e.ipv4?.split('/')[0] === ip);
            if (ep) return `${sandbox.name}.${network?.name ?? ''}`;
          }
        }
        return undefined;
      },
      upstreams: (client) => this.scopeOf(networkId, client).sandbox?.upstreams,
    };
  }

  /** The table body the records call for (what `system check` compares the kernel's with). */
  expectedFirewall(): string {
    return renderFirewall(this.firewallModel());
  }

  /** Apply the table again even if nothing changed here (`system check --repair` after a hand edit). */
  async reapplyFirewall(): Promise<void> {
    await this.serialize(async () => {
      this.appliedFirewall = undefined;
      await this.applyFirewall();
    });
  }

  private firewallModel(): FirewallModel {
    return {
      table: this.names.table,
      publishBehindHostFirewall: this.options.publishBehindHostFirewall === true,
      networks: [...this.networks.values()].filter((n) => n.driver === 'bridge' && n.bridge).map((n) => {
        const listener = this.dnsListeners.get(n.id);
        const gateway = n.ipam.find((e) => !e.Gateway.includes(':'))?.Gateway;
        return {
          bridge: n.bridge ?? '',
          subnets4: n.ipam.filter((e) => !e.Subnet.includes(':')).map((e) => e.Subnet),
          subnets6: n.ipam.filter((e) => e.Subnet.includes(':')).map((e) => e.Subnet),
          internal: n.internal,
          masquerade: n.masquerade,
          ...(listener && gateway ? { dns: { gateway, udpPort: listener.udpPort, tcpPort: listener.tcpPort } } : {}),
        };
      }),
      ports: [...this.sandboxes.values()].flatMap((s) => s.ports.map((p) => ({
        protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: p.containerIp, containerPort: p.containerPort,
      }))),
    };
  }

  async applyFirewall(): Promise<void> {
    const body = renderFirewall(this.firewallModel());
    // most container starts change no rule (no published port): no nft spawn then
    if (body === this.appliedFirewall) return;
    this.appliedFirewall = undefined;
    await this.kernel.applyFirewall(FIREWALL_FAMILY, this.names.table, body);
    this.appliedFirewall = body;
  }

  emit(action: NetworkEventAction, network: NetworkRecord, attributes: Record<string, string> = {}): void {
    if (!this.options.onEvent) return;
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const event: NetworkEvent = {
      Type: 'network',
      Action: action,
      Actor: { ID: network.id, Attributes: { name: network.name, type: network.driver, ...attributes } },
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    try {
      this.options.onEvent(event);
    } catch {
      // a failing listener must not undo a network operation
    }
  }

  // ---- networks -------------------------------------------------------------------

  resolveNetwork(idOrName: string): NetworkRecord {
    const all = [...this.networks.values()];
    const exact = all.find((n) => n.id === idOrName) ?? all.find((n) => n.name === idOrName);
    if (exact) return exact;
    const byPrefix = idOrName.length > 0 ? all.filter((n) => n.id.startsWith(idOrName)) : [];
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) throw new BerthError('invalid_argument', 'AMBIGUOUS_NETWORK', `network ${idOrName} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw notFound('NO_SUCH_NETWORK', `network ${idOrName} not found`);
  }

  async resolve(idOrName: string): Promise<{ id: string; name: string; driver: string }> {
    await Promise.resolve();
    const n = this.resolveNetwork(idOrName);
    return { id: n.id, name: n.name, driver: n.driver };
  }

  async create(body: unknown): Promise<NetworkCreateResponse> {
    const request = parseCreateRequest(body);
    return await this.serialize(async () => {
      const record = buildNetworkRecord(request, { ...this.configContext(), hostRoutes: await this.hostRoutes() });
      await withCleanup(async () => {
        this.networks.set(record.id, record);
        await this.store.saveNetwork(record);
        await this.bringUpNetwork(record);
        await this.applyFirewall();
      }, async () => {
        this.networks.delete(record.id);
        await this.dnsListeners.get(record.id)?.close();
        this.dnsListeners.delete(record.id);
        if (record.bridge) await this.kernel.deleteLink(record.bridge);
        await this.store.deleteNetwork(record.id);
        await this.applyFirewall();
      });
      this.emit('create', record);
      return { Id: record.id, Warning: '' };
    });
  }

  private endpointCount(networkId: string): number {
    let count = 0;
    for (const s of this.sandboxes.values()) count += s.endpoints.filter((e) => e.networkId === networkId).length;
    return count;
  }

  async list(filters: Record<string, string[]> = {}): Promise<NetworkResource[]> {
    await Promise.resolve();
    const sandboxes = [...this.sandboxes.values()];
    const behind = this.options.publishBehindHostFirewall === true;
    return [...this.networks.values()]
      .filter((n) => matchesListFilters(n, filters, this.endpointCount(n.id)))
      .sort((a, b) => a.created.localeCompare(b.created))
      .map((n) => toNetworkResource(n, sandboxes, behind, this.options.rootless?.portForwarding));
  }

  async inspect(idOrName: string): Promise<NetworkResource> {
    await Promise.resolve();
    return toNetworkResource(this.resolveNetwork(idOrName), [...this.sandboxes.values()], this.options.publishBehindHostFirewall === true,
      this.options.rootless?.portForwarding);
  }

  async remove(idOrName: string): Promise<void> {
    await this.serialize(async () => {
      const network = this.resolveNetwork(idOrName);
      await this.removeLocked(network);
    });
  }

  private async removeLocked(network: NetworkRecord): Promise<void> {
    if (network.predefined) {
      throw new BerthError('forbidden', 'PREDEFINED_NETWORK', `${network.name} is a pre-defined network and cannot be removed`);
    }
    if (this.endpointCount(network.id) > 0) {
      throw conflict('NETWORK_IN_USE', `error while removing network: network ${network.name} id ${network.id} has active endpoints`);
    }
    await this.dnsListeners.get(network.id)?.close();
    this.dnsListeners.delete(network.id);
    this.networks.delete(network.id);
    await this.applyFirewall();
    if (network.bridge) await this.kernel.deleteLink(network.bridge);
    await this.store.deleteNetwork(network.id);
    this.emit('destroy', network);
  }

  async prune(filters: Record<string, string[]> = {}): Promise<{ NetworksDeleted: string[] }> {
    return await this.serialize(async () => {
      const deleted: string[] = [];
      for (const network of [...this.networks.values()]) {
        if (network.predefined || this.endpointCount(network.id) > 0 || !matchesPruneFilters(network, filters)) continue;
        await this.removeLocked(network);
        deleted.push(network.name);
      }
      return { NetworksDeleted: deleted };
    });
  }

  // ---- containers -----------------------------------------------------------------

  async createSandbox(containerId: string, spec: SandboxSpec): Promise<SandboxInfo> {
    return await this.serialize(async () => this.info(await this.sandboxOps.create(containerId, spec)));
  }

  async destroySandbox(containerId: string): Promise<void> {
    await this.serialize(async () => {
      const sandbox = this.sandboxes.get(containerId);
      if (!sandbox) return;
      this.drain(sandbox, (await this.sandboxOps.releaseLeavingLinks(sandbox)).links);
      await this.applyFirewall();
      for (const ep of sandbox.endpoints) {
        const network = this.networks.get(ep.networkId);
        if (network) this.emit('disconnect', network, { container: containerId });
      }
    });
  }

  async connect(containerId: string, network: string, config: EndpointConfig = {}): Promise<SandboxInfo> {
    return await this.serialize(async () => this.info(await this.sandboxOps.connect(containerId, this.resolveNetwork(network), config)));
  }

  async disconnect(containerId: string, network: string, force = false): Promise<SandboxInfo | undefined> {
    return await this.serialize(async () => {
      const record = this.resolveNetwork(network);
      const sandbox = await this.sandboxOps.disconnect(containerId, record, force);
      return sandbox ? this.info(sandbox) : undefined;
    });
  }

  sandbox(containerId: string): SandboxInfo | undefined {
    const record = this.sandboxes.get(containerId);
    return record ? this.info(record) : undefined;
  }

  private info(record: SandboxRecord): SandboxInfo {
    return {
      containerId: record.containerId,
      netnsPath: record.netnsPath,
      hostsContent: record.hostsContent,
      resolvConfContent: record.resolvConfContent,
      hostnameContent: `${record.hostname}\n`,
      settings: toNetworkSettings(record, this.networks),
    };
  }
}
