// A container's network sandbox: its netns, one endpoint (veth) per network, the published
// ports and the /etc/hosts + /etc/resolv.conf it gets. Called under the service's lock.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, conflict, invalidArgument, notFound, withCleanup } from '../../errors/berth-error.js';
import { HostEntry, parseExtraHost, parseResolvConf, renderHosts, renderResolvConf, withEmbeddedDns } from '../../network/etc-files.js';
import { EMBEDDED_DNS_ADDRESS, servedByProxyOnly } from '../../network/firewall.js';
import { mappingsFromBindings, PortMapping } from '../../network/ports.js';
import { reservePort, Reservation, type ProxyTarget } from '../../network/port-reserver.js';
import type { NetnsOptions } from '../../network/kernel.js';
import { allocateEndpoint } from './allocate.js';
import type { NetworkState } from './service.js';
import { EndpointRecord, NetworkRecord, PublishedPort, SandboxRecord } from './store.js';
import { EndpointConfig, SandboxSpec } from './types.js';

function addressOf(cidr: string | undefined): string | undefined {
  return cidr?.split('/')[0];
}

/** user-defined bridge networks have an embedded DNS on their IPv4 gateway */
function embeddedDnsGateway(network: NetworkRecord): string | undefined {
  if (network.predefined || network.driver !== 'bridge') return undefined;
  return network.ipam.find((e) => !e.Gateway.includes(':'))?.Gateway;
}

export class SandboxOps {
  constructor(private readonly state: NetworkState) {}

  async create(containerId: string, spec: SandboxSpec): Promise<SandboxRecord> {
    if (!/^[0-9a-zA-Z_.-]{1,128}$/.test(containerId)) throw invalidArgument('INVALID_CONTAINER_ID', `invalid container id "${containerId}"`);
    const stale = this.state.sandboxes.get(containerId);
    if (stale) await this.release(stale);
    const mode = spec.networkMode === '' || spec.networkMode === 'default' ? 'bridge' : spec.networkMode;
    if (mode === 'host') return await this.createShared(containerId, spec, 'host');
    if (mode.startsWith('container:')) return await this.createShared(containerId, spec, 'container', mode.slice('container:'.length));
    const hostResolv = parseResolvConf(await this.state.hostResolvConf());
    const record: SandboxRecord = {
      containerId,
      sandboxId: randomBytes(32).toString('hex'),
      name: spec.name.replace(/^\//, ''),
      hostname: spec.hostname || containerId.slice(0, 12),
      domainname: spec.domainname || undefined,
      mode: mode === 'none' ? 'none' : 'bridge',
      netnsPath: path.join(this.state.netnsDir, containerId),
      endpoints: [],
      ports: [],
      exposed: Object.keys(spec.exposedPorts ?? {}).concat(Object.keys(spec.portBindings ?? {})).filter((k, i, a) => a.indexOf(k) === i),
      hostsContent: '',
      resolvConfContent: '',
    };
    // which networks, resolved before anything is made so a bad name leaves nothing behind
    const joins: Array<{ network: NetworkRecord; config: EndpointConfig | undefined }> = [];
    if (record.mode === 'bridge') {
      const primary = this.state.resolveNetwork(mode);
      if (primary.driver !== 'bridge') throw invalidArgument('INVALID_NETWORK_MODE', `network mode "${mode}" is not a bridge network`);
      joins.push({ network: primary, config: this.endpointConfigFor(spec, primary) });
      for (const key of Object.keys(spec.endpoints ?? {})) {
        // the docker CLI names the default network "default" in EndpointsConfig
        const network = this.state.resolveNetwork(key === 'default' ? mode : key);
        if (joins.some((j) => j.network.id === network.id)) continue;
        if (network.driver !== 'bridge') throw invalidArgument('INVALID_NETWORK_MODE', `cannot join ${network.name} together with a bridge network`);
        joins.push({ network, config: spec.endpoints?.[key] });
      }
    }
    const mappings = record.mode === 'bridge' ? mappingsFromBindings(spec.portBindings, spec.exposedPorts, spec.publishAllPorts === true) : [];
    const defaultBridge = [...this.state.networks.values()].find((n) => n.predefined && n.name === 'bridge');
    const extra = (spec.extraHosts ?? []).map((h) => parseExtraHost(h, defaultBridge?.ipam[0]?.Gateway));

    await withCleanup(async () => {
      // persisted once, when complete: a crash before that leaves only names the sweep removes
      this.state.sandboxes.set(containerId, record);
      // the first endpoint is made together with the namespace (one spawn less on every start)
      // any user-defined network brings the embedded DNS (through the first of them); its table
      // in the netns is made with the namespace
      const dnsGateway = joins.map((j) => embeddedDnsGateway(j.network)).find((g) => g !== undefined);
      if (joins.length === 0) await this.state.kernel.createNetns(record.netnsPath ?? '');
      for (const [i, join] of joins.entries()) await this.addEndpoint(record, join.network, join.config, i === 0 ? { dnsGateway } : undefined);
      await this.publish(record, mappings);
      record.resolvConfContent = renderResolvConf({
        host: hostResolv,
        embeddedDns: dnsGateway !== undefined ? EMBEDDED_DNS_ADDRESS : undefined,
        dns: spec.dns, dnsSearch: spec.dnsSearch, dnsOptions: spec.dnsOptions,
      });
      if (dnsGateway !== undefined) {
        record.dnsGateway = dnsGateway;
        if (spec.dns && spec.dns.length > 0) record.upstreams = spec.dns;
      }
      record.hostsContent = renderHosts({
        hostname: record.hostname,
        domainname: record.domainname,
        addresses: record.endpoints.flatMap((e) => [addressOf(e.ipv4), addressOf(e.ipv6)].filter((a): a is string => a !== undefined)).slice(0, 1),
        extra,
        links: this.linkEntries(spec, defaultBridge),
      });
      await this.state.store.saveSandbox(record);
      await this.state.applyFirewall();
    }, async () => {
      await this.release(record);
      await this.state.applyFirewall();
    });
    for (const ep of record.endpoints) {
      const network = this.state.networks.get(ep.networkId);
      if (network) this.state.emit('connect', network, { container: containerId });
    }
    return record;
  }

  private endpointConfigFor(spec: SandboxSpec, network: NetworkRecord): EndpointConfig | undefined {
    const endpoints = spec.endpoints ?? {};
    return endpoints[network.name] ?? endpoints[network.id] ?? Object.entries(endpoints).find(([k]) => network.id.startsWith(k))?.[1];
  }

  /** host and container:<id> modes join a namespace that exists; nothing is created. */
  private async createShared(containerId: string, spec: SandboxSpec, mode: 'host' | 'container', target?: string): Promise<SandboxRecord> {
    const base = {
      containerId, sandboxId: randomBytes(32).toString('hex'), name: spec.name.replace(/^\//, ''),
      hostname: spec.hostname || containerId.slice(0, 12), domainname: spec.domainname || undefined,
      endpoints: [], ports: [], exposed: [],
    };
    let record: SandboxRecord;
    if (mode === 'container') {
      const shared = this.findSandbox(target ?? '');
      if (!shared || shared.netnsPath === null && shared.mode !== 'host') {
        throw conflict('CONTAINER_NOT_RUNNING', `cannot join network namespace of container ${target ?? ''}: it is not running`);
      }
      record = { ...base, mode: 'container', sharedWith: shared.containerId, netnsPath: shared.netnsPath, hostname: shared.hostname,
        hostsContent: shared.hostsContent, resolvConfContent: shared.resolvConfContent };
    } else {
      const hostFile = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
      const defaultBridge = [...this.state.networks.values()].find((n) => n.predefined && n.name === 'bridge');
      const extra = (spec.extraHosts ?? []).map((h) => parseExtraHost(h, defaultBridge?.ipam[0]?.Gateway));
      record = {
        ...base, mode: 'host', netnsPath: null,
        hostsContent: renderHosts({ hostname: base.hostname, addresses: [], extra, links: [], hostFile }),
        resolvConfContent: renderResolvConf({
          host: parseResolvConf(await this.state.hostResolvConf()), hostNetwork: true,
          dns: spec.dns, dnsSearch: spec.dnsSearch, dnsOptions: spec.dnsOptions,
        }),
      };
    }
    this.state.sandboxes.set(containerId, record);
    await this.state.store.saveSandbox(record);
    return record;
  }

  /** a running container's sandbox by full id, name or unique id prefix */
  private findSandbox(ref: string): SandboxRecord | undefined {
    const exact = this.state.sandboxes.get(ref);
    if (exact) return exact;
    const all = [...this.state.sandboxes.values()];
    const byName = all.find((s) => s.name === ref.replace(/^\//, ''));
    if (byName) return byName;
    const byPrefix = ref.length >= 3 ? all.filter((s) => s.containerId.startsWith(ref)) : [];
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  private linkEntries(spec: SandboxSpec, defaultBridge: NetworkRecord | undefined): HostEntry[] {
    const out: HostEntry[] = [];
    for (const link of spec.links ?? []) {
      const target = this.findSandbox(link.containerId);
      const ep = target?.endpoints.find((e) => e.networkId === defaultBridge?.id);
      const ip = addressOf(ep?.ipv4);
      if (!ip) throw conflict('LINK_TARGET_NOT_RUNNING', `cannot link to ${link.name}: it is not running on the default bridge network`);
      // as docker: the alias, the target's hostname, and its name when that differs from the alias
      out.push({ ip, names: [...new Set([link.alias, target?.hostname ?? link.containerId.slice(0, 12), link.name])] });
    }
    return out;
  }

  /** withNetns: the first endpoint, made together with the namespace (and its DNS table) */
  private async addEndpoint(record: SandboxRecord, network: NetworkRecord, config: EndpointConfig | undefined,
    withNetns?: NetnsOptions): Promise<EndpointRecord> {
    if (record.endpoints.some((e) => e.networkId === network.id)) {
      throw conflict('ENDPOINT_EXISTS', `endpoint with name ${record.name} already exists in network ${network.name}`);
    }
    const endpointId = randomBytes(32).toString('hex');
    const used = new Set(record.endpoints.map((e) => e.ifName));
    let index = 0;
    while (used.has(`eth${index}`)) index++;
    // addresses of veths still being deleted are taken too; one asked for by name may be
    // one of theirs (a restart with --ip): then it waits for them (tens of ms)
    const fixed = [config?.IPAMConfig?.IPv4Address, config?.IPAMConfig?.IPv6Address, config?.MacAddress].some((v) => v !== undefined && v !== '');
    if (fixed) await this.state.drained();
    const endpoint = allocateEndpoint(network, [...this.state.sandboxes.values(), ...this.state.draining.values()], config, {
      endpointId, hostIfName: this.state.names.veth(endpointId), ifName: `eth${index}`,
    });
    const hasDefaultRoute = record.endpoints.some((e) => {
      const n = this.state.networks.get(e.networkId);
      return n !== undefined && !n.internal;
    });
    // the lease holds in memory at once; callers persist the record when it is complete
    record.endpoints.push(endpoint);
    const plumbing = {
      netnsPath: record.netnsPath ?? '',
      bridge: network.bridge ?? '',
      hostIfName: endpoint.hostIfName,
      ifName: endpoint.ifName,
      mac: endpoint.mac,
      mtu: network.mtu,
      ipv4: endpoint.ipv4,
      gateway4: endpoint.gateway4,
      ipv6: endpoint.ipv6,
      gateway6: endpoint.gateway6,
      defaultRoute: !network.internal && !hasDefaultRoute,
    };
    if (withNetns) await this.state.kernel.createNetns(plumbing.netnsPath, plumbing, withNetns);
    else await this.state.kernel.addEndpoint(plumbing);
    return endpoint;
  }

  /**
   * Reserves host ports (binding them) and records the DNAT targets on the first endpoint. On an
   * IPv6 network a port published on every address is published on "::" too, to the container's
   * IPv6 address; [::1] reaches it through the reserving socket (the kernel cannot DNAT ::1).
   */
  private async publish(record: SandboxRecord, mappings: readonly PortMapping[]): Promise<void> {
    if (mappings.length === 0) return;
    const endpoint = record.endpoints.find((e) => e.ipv4);
    const containerIp = addressOf(endpoint?.ipv4);
    const containerIp6 = addressOf(endpoint?.ipv6);
    const network = endpoint ? this.state.networks.get(endpoint.networkId) : undefined;
    if (!containerIp || !network || network.internal) return;
    const held: Reservation[] = this.state.reservations.get(record.containerId) ?? [];
    this.state.reservations.set(record.containerId, held);
    for (const mapping of mappings) {
      if (isIP(mapping.hostIp) === 6) {
        if (!containerIp6) {
          throw invalidArgument('NO_IPV6_ADDRESS', `cannot publish port ${mapping.containerPort} on ${mapping.hostIp}: `
            + `container ${record.containerId} has no IPv6 address (its network was not created with --ipv6)`);
        }
        await this.reserve(record, held, mapping, containerIp6);
        continue;
      }
      const hostPort = await this.reserve(record, held, mapping, containerIp);
      if (mapping.hostIp === '' && containerIp6) {
        await this.reserve(record, held, { ...mapping, hostIp: '::', hostPortStart: hostPort, hostPortEnd: hostPort }, containerIp6);
      }
    }
  }

  /** A socket relays to the container: in proxy mode, and for [::1] (so for "::", which takes it). */
  private proxyTarget(hostIp: string, containerIp: string, containerPort: number): ProxyTarget | undefined {
    // rootless: the host port is in another namespace than the bridges: always relayed
    const rootless = this.state.options.rootless;
    if (rootless) return rootless.proxyTarget(containerIp, containerPort);
    const proxy = this.state.options.publishBehindHostFirewall === true || servedByProxyOnly(hostIp) || hostIp === '::';
    return proxy ? { ip: containerIp, port: containerPort } : undefined;
  }

  private async reserve(record: SandboxRecord, held: Reservation[], mapping: PortMapping, containerIp: string): Promise<number> {
    const reservation = await reservePort(mapping, this.proxyTarget(mapping.hostIp, containerIp, mapping.containerPort));
    held.push(reservation);
    const viaProxy = this.state.options.publishBehindHostFirewall === true || servedByProxyOnly(mapping.hostIp);
    const forwarding = this.state.options.rootless ? 'rootless-relay' : viaProxy ? 'userland-proxy' : 'kernel-dnat';
    record.ports.push({
      protocol: mapping.protocol, containerPort: mapping.containerPort, hostIp: mapping.hostIp,
      hostPort: reservation.hostPort, containerIp, path: forwarding,
    });
    return reservation.hostPort;
  }

  /** After a daemon restart: bind again the host ports of sandboxes that survived. */
  async restorePorts(): Promise<void> {
    for (const record of this.state.sandboxes.values()) {
      if (record.ports.length === 0 || this.state.reservations.has(record.containerId)) continue;
      const held: Reservation[] = [];
      this.state.reservations.set(record.containerId, held);
      for (const p of record.ports) {
        const mapping = { protocol: p.protocol, containerPort: p.containerPort, hostIp: p.hostIp, hostPortStart: p.hostPort, hostPortEnd: p.hostPort };
        try {
          held.push(await reservePort(mapping, this.proxyTarget(p.hostIp, p.containerIp, p.containerPort)));
        } catch (err) {
          process.emitWarning(`berth: cannot re-reserve port ${p.hostPort}/${p.protocol} of container ${record.containerId}: ${String(err)}`);
        }
      }
    }
  }

  /** Frees everything of a sandbox; safe to call on a half-made one. */
  async release(record: SandboxRecord): Promise<void> {
    await (await this.releaseLeavingLinks(record)).links;
  }

  /**
   * All of release() but the deletion of the veths, which is started and handed back: the
   * kernel waits out RCU grace periods for each (15-40 ms), and a container's stop need not
   * wait for that. The caller must keep the sandbox's addresses from being leased again
   * until it is done (state.draining), as its veths are still on a bridge until then.
   */
  async releaseLeavingLinks(record: SandboxRecord): Promise<{ links: Promise<void> }> {
    for (const reservation of this.state.reservations.get(record.containerId) ?? []) await reservation.close();
    this.state.reservations.delete(record.containerId);
    const work: Array<Promise<void>> = [this.state.store.deleteSandbox(record.containerId)];
    const links: Array<Promise<void>> = [];
    if (record.mode === 'bridge' || record.mode === 'none') {
      // independent of each other, so in parallel (this is on the container stop path)
      for (const ep of record.endpoints) links.push(this.state.kernel.deleteLink(ep.hostIfName));
      if (record.netnsPath) work.push(this.state.kernel.destroyNetns(record.netnsPath));
    }
    this.state.sandboxes.delete(record.containerId);
    const firstFailure = async (all: Array<Promise<void>>): Promise<void> => {
      const failed = (await Promise.allSettled(all)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    const linksDeleted = firstFailure(links);
    linksDeleted.catch(() => undefined); // handled: whoever awaits it sees the failure
    try {
      await firstFailure(work);
    } catch (err) {
      await linksDeleted.catch(() => undefined);
      throw err;
    }
    return { links: linksDeleted };
  }

  async connect(containerId: string, network: NetworkRecord, config: EndpointConfig): Promise<SandboxRecord> {
    const record = this.state.sandboxes.get(containerId);
    if (!record) throw notFound('NO_SANDBOX', `container ${containerId} is not running; record the network in its config instead`);
    if (record.mode !== 'bridge' && record.mode !== 'none') {
      throw new BerthError('forbidden', 'SHARED_NETNS', `container ${containerId} shares a network namespace (${record.mode}) and cannot be connected to ${network.name}`);
    }
    if (network.driver !== 'bridge') throw new BerthError('forbidden', 'CONNECT_PREDEFINED', `container cannot be connected to the ${network.name} network`);
    if (record.mode === 'none') throw invalidArgument('CONNECT_NONE', `container ${containerId} uses network none and cannot be connected to ${network.name}`);
    const endpoint = await this.addEndpoint(record, network, config);
    const ip = addressOf(endpoint.ipv4);
    if (ip) record.hostsContent += `${ip}\t${record.hostname}\n`;
    const dnsGateway = embeddedDnsGateway(network);
    if (record.dnsGateway === undefined && dnsGateway !== undefined) {
      // the first user-defined network brings the embedded DNS, as docker starts its resolver
      await this.state.kernel.setSandboxDns(record.netnsPath ?? '', dnsGateway);
      record.dnsGateway = dnsGateway;
      record.resolvConfContent = withEmbeddedDns(record.resolvConfContent, EMBEDDED_DNS_ADDRESS);
    }
    await this.state.store.saveSandbox(record);
    await this.state.applyFirewall();
    this.state.emit('connect', network, { container: containerId });
    return record;
  }

  async disconnect(containerId: string, network: NetworkRecord, _force: boolean): Promise<SandboxRecord | undefined> {
    const record = this.state.sandboxes.get(containerId);
    if (!record) return undefined;
    const endpoint = record.endpoints.find((e) => e.networkId === network.id);
    if (!endpoint) throw notFound('NOT_CONNECTED', `container ${containerId} is not connected to network ${network.name}`);
    await this.state.kernel.deleteLink(endpoint.hostIfName);
    record.endpoints = record.endpoints.filter((e) => e !== endpoint);
    const ip = addressOf(endpoint.ipv4);
    const gone = new Set([ip, addressOf(endpoint.ipv6)].filter((a): a is string => a !== undefined));
    const dropped: PublishedPort[] = record.ports.filter((p) => gone.has(p.containerIp));
    if (dropped.length > 0) {
      // ports pointed at the addresses that are gone: release them too
      record.ports = record.ports.filter((p) => !gone.has(p.containerIp));
      const isDropped = (r: Reservation): boolean => dropped.some((p) => p.hostPort === r.hostPort && p.hostIp === r.hostIp);
      for (const r of this.state.reservations.get(containerId) ?? []) if (isDropped(r)) await r.close();
      this.state.reservations.set(containerId, (this.state.reservations.get(containerId) ?? []).filter((r) => !isDropped(r)));
    }
    if (ip) record.hostsContent = record.hostsContent.split('\n').filter((l) => !l.startsWith(`${ip}\t${record.hostname}`)).join('\n');
    if (record.dnsGateway !== undefined && record.dnsGateway === embeddedDnsGateway(network)) {
      // 127.0.0.11 now leads through another user-defined network the container is still on
      const next = record.endpoints.map((e) => this.state.networks.get(e.networkId))
        .map((n) => (n ? embeddedDnsGateway(n) : undefined)).find((g) => g !== undefined);
      await this.state.kernel.setSandboxDns(record.netnsPath ?? '', next);
      record.dnsGateway = next;
    }
    await this.state.store.saveSandbox(record);
    await this.state.applyFirewall();
    this.state.emit('disconnect', network, { container: containerId });
    return record;
  }
}
