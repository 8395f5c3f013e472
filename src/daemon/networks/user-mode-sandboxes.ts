// Sandboxes of a rootless daemon: a container on a bridge network gets its own network
// namespace connected by a user-mode relay (pasta, src/network/user-mode.ts) instead of a
// veth on a host bridge. host, none and container:<id> modes are unchanged (sandboxes.ts).
// Called under the service's lock.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { BerthError, invalidArgument, withCleanup } from '../../errors/berth-error.js';
import { parseExtraHost, parseResolvConf, renderHosts, renderResolvConf } from '../../network/etc-files.js';
import { mappingsFromBindings } from '../../network/ports.js';
import type { UserModeNetworking } from '../../network/user-mode.js';
import type { NetworkState } from './service.js';
import type { SandboxRecord } from './store.js';
import type { SandboxSpec } from './types.js';

/** true for the modes a user-mode relay serves: the default network or any bridge network */
export function servedByUserMode(networkMode: string): boolean {
  return !['host', 'none'].includes(networkMode) && !networkMode.startsWith('container:');
}

export class UserModeSandboxes {
  constructor(private readonly state: NetworkState, private readonly relay: UserModeNetworking) {}

  async create(containerId: string, spec: SandboxSpec): Promise<SandboxRecord> {
    if (!/^[0-9a-zA-Z_.-]{1,128}$/.test(containerId)) throw invalidArgument('INVALID_CONTAINER_ID', `invalid container id "${containerId}"`);
    const mode = spec.networkMode === '' || spec.networkMode === 'default' ? 'bridge' : spec.networkMode;
    const network = this.state.resolveNetwork(mode);
    if (network.driver !== 'bridge') throw invalidArgument('INVALID_NETWORK_MODE', `network mode "${mode}" is not a bridge network`);
    const others = Object.keys(spec.endpoints ?? {}).filter((k) => k !== 'default' && this.state.resolveNetwork(k).id !== network.id);
    if (others.length > 0) {
      throw new BerthError('not_implemented', 'ROOTLESS_ONE_NETWORK', `rootless berthd connects a container to one network only (${network.name}); cannot also join ${others.join(', ')}`);
    }
    await this.relay.check();
    const record: SandboxRecord = {
      containerId, sandboxId: randomBytes(32).toString('hex'), name: spec.name.replace(/^\//, ''),
      hostname: spec.hostname || containerId.slice(0, 12), domainname: spec.domainname || undefined,
      mode: 'bridge', netnsPath: path.join(this.state.netnsDir, containerId), endpoints: [], ports: [],
      exposed: Object.keys(spec.exposedPorts ?? {}).concat(Object.keys(spec.portBindings ?? {})).filter((k, i, a) => a.indexOf(k) === i),
      hostsContent: '', resolvConfContent: '',
    };
    const mappings = mappingsFromBindings(spec.portBindings, spec.exposedPorts, spec.publishAllPorts === true);
    const extra = (spec.extraHosts ?? []).map((h) => parseExtraHost(h, undefined));
    const hostResolv = parseResolvConf(await this.state.hostResolvConf());
    await withCleanup(async () => {
      this.state.sandboxes.set(containerId, record);
      await this.state.kernel.createNetns(record.netnsPath ?? '');
      const attachment = await this.relay.attach(containerId, record.netnsPath ?? '', mappings);
      const address = attachment.ipv4?.split('/')[0];
      record.endpoints.push({
        id: randomBytes(32).toString('hex'), networkId: network.id, hostIfName: '', ifName: 'eth0', mac: '',
        ...(attachment.ipv4 ? { ipv4: attachment.ipv4 } : {}), ...(attachment.gateway4 ? { gateway4: attachment.gateway4 } : {}),
        aliases: [], links: [],
      });
      record.ports = attachment.ports.map((p) => ({ ...p, containerIp: address ?? '', path: this.relay.name }));
      record.resolvConfContent = renderResolvConf({ host: hostResolv, dns: spec.dns, dnsSearch: spec.dnsSearch, dnsOptions: spec.dnsOptions });
      record.hostsContent = renderHosts({ hostname: record.hostname, domainname: record.domainname, addresses: address ? [address] : [], extra, links: [] });
      await this.state.store.saveSandbox(record);
    }, async () => {
      await this.release(record);
    });
    this.state.emit('connect', network, { container: containerId });
    return record;
  }

  /** Stops the relay and removes the namespace; safe on a half-made sandbox. */
  async release(record: SandboxRecord): Promise<void> {
    await this.relay.detach(record.containerId);
    this.state.sandboxes.delete(record.containerId);
    await this.state.store.deleteSandbox(record.containerId);
    if (record.netnsPath) await this.state.kernel.destroyNetns(record.netnsPath);
  }
}
