// What the network service asks of the host kernel, behind one interface so that plans can be
// unit-tested with a recording fake. IpKernel makes namespaces, veths, addresses and routes by
// netlink from berthd itself (sys/netlink: no program on a container's start or stop) and the
// rest (bridges, nftables, listings) with iproute2 and nft through sys/exec; a rootless berthd,
// whose bridges live in another namespace, keeps to the programs for all of it.
import { writeFileSync } from 'node:fs';
import { readdir, readFile, writeFile, mkdir, unlink, open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { runProgram, type RunOptions, type RunResult } from '../sys/exec.js';
import { unmountDetached } from '../sys/fs-native.js';
import { createNetns as createNetnsAt, insideNetns, RouteSocket } from '../sys/netlink.js';
import { NftablesContext, nftablesLibraryAvailable, runNftablesInside } from '../sys/nftables.js';
import { errnoCode, internal } from '../errors/berth-error.js';
import { renderSandboxDns, SANDBOX_DNS_TABLE } from './firewall.js';

export interface BridgeSpec {
  name: string;
  /** "172.18.0.1/16", "fd00::1/64" */
  addresses: string[];
  mtu: number;
}

export interface EndpointPlumbing {
  netnsPath: string;
  bridge: string;
  hostIfName: string;
  /** name inside the namespace: eth0, eth1... */
  ifName: string;
  mac: string;
  mtu: number;
  /** "172.18.0.2/16" */
  ipv4?: string;
  gateway4?: string;
  ipv6?: string;
  gateway6?: string;
  /** add default routes through this endpoint's gateways */
  defaultRoute: boolean;
}

export interface NetnsOptions {
  /** made with the namespace: 127.0.0.11:53 -> this gateway:53 (see setSandboxDns) */
  dnsGateway?: string;
}

export interface NetworkKernel {
  ensureBridge(spec: BridgeSpec): Promise<void>;
  deleteLink(name: string): Promise<void>;
  /** names of links whose name starts with prefix */
  listLinks(prefix: string): Promise<string[]>;
  /** a netns bound to `file` with lo up, and optionally its first endpoint made at once */
  createNetns(file: string, firstEndpoint?: EndpointPlumbing, options?: NetnsOptions): Promise<void>;
  destroyNetns(file: string): Promise<void>;
  addEndpoint(plumbing: EndpointPlumbing): Promise<void>;
  /** inside the netns: 127.0.0.11:53 -> gateway:53 (the embedded DNS); undefined removes it */
  setSandboxDns(netnsPath: string, gateway: string | undefined): Promise<void>;
  /** replaces the whole table atomically; an empty script deletes it */
  applyFirewall(family: string, table: string, body: string): Promise<void>;
  deleteFirewall(family: string, table: string): Promise<void>;
  listFirewallTables(): Promise<Array<{ family: string; name: string }>>;
  /** destinations of host routes in CIDR form, to pass over overlapping default subnets */
  hostRoutes(): Promise<string[]>;
  setSysctl(key: string, value: string): Promise<void>;
}

const linkListSchema = z.array(z.object({ ifname: z.string() }).passthrough());
const routeListSchema = z.array(z.object({ dst: z.string() }).passthrough());
const nftTablesSchema = z.object({
  nftables: z.array(z.object({ table: z.object({ family: z.string(), name: z.string() }).passthrough().optional() }).passthrough()),
});

export interface IpKernelOptions {
  /**
   * The network namespace (a bind-mounted file) that holds berth's bridges, the host ends of
   * veths, its sysctls and nftables table; default berthd's own. Rootless berthd keeps them in
   * its rootless netns (network/rootless-netns.ts), where it has CAP_NET_ADMIN.
   */
  netns?: string;
}

export class IpKernel implements NetworkKernel {
  /** where the veth peers go and the host-side commands run */
  private readonly bridgeNetns: string;
  /** berth's own table in our namespace, through libnftables */
  private readonly nftables = new NftablesContext();

  constructor(private readonly where: IpKernelOptions = {}) {
    this.bridgeNetns = where.netns ?? `/proc/${process.pid}/ns/net`;
  }

  /** ip and nft for the bridges' namespace (nsenter'ed into it when it is not ours) */
  private async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (this.where.netns === undefined) return await runProgram(file, args, options);
    return await runProgram('nsenter', [`--net=${this.where.netns}`, file, ...args], options);
  }

  private async ipBatch(lines: readonly string[]): Promise<void> {
    await this.run('ip', ['-batch', '-'], { input: lines.join('\n') + '\n' });
  }

  async ensureBridge(spec: BridgeSpec): Promise<void> {
    const exists = (await this.listLinks(spec.name)).includes(spec.name);
    // a fixed address: a bridge without one takes the lowest address of its ports, so a new
    // veth could change it and leave every container's ARP entry for the gateway stale
    const mac = bridgeMac(spec.name);
    const lines: string[] = [];
    if (!exists) lines.push(`link add name ${spec.name} address ${mac} mtu ${spec.mtu} type bridge`);
    else lines.push(`link set ${spec.name} address ${mac}`);
    for (const address of spec.addresses) lines.push(`addr replace ${address} dev ${spec.name}`);
    lines.push(`link set ${spec.name} up`);
    await this.ipBatch(lines);
    // containers publish to 127.0.0.1: DNATed loopback-sourced packets must be routable here
    await this.setSysctl(`net/ipv4/conf/${spec.name}/route_localnet`, '1');
  }

  async deleteLink(name: string): Promise<void> {
    // gone already is fine: a veth goes with its namespace, which release() unmounts concurrently
    if (this.where.netns === undefined) {
      const host = RouteSocket.open();
      try {
        await host.deleteLink(name);
      } finally {
        host.close();
      }
      return;
    }
    const result = await this.run('ip', ['link', 'del', name], { allowFailure: true });
    if (result.code !== 0 && !/Cannot find device|does not exist|No such device/i.test(result.stderr)) {
      throw internal('LINK_DELETE_FAILED', `cannot delete link ${name}: ${result.stderr.trim()}`);
    }
  }

  async listLinks(prefix: string): Promise<string[]> {
    const result = await this.run('ip', ['-j', 'link', 'show']);
    const links = linkListSchema.parse(JSON.parse(result.stdout || '[]'));
    return links.map((l) => l.ifname).filter((n) => n.startsWith(prefix));
  }

  async createNetns(file: string, first?: EndpointPlumbing, options: NetnsOptions = {}): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await (await open(file, 'a', 0o444)).close();
    if (this.where.netns !== undefined) {
      await this.createNetnsWithPrograms(file, first, options);
      return;
    }
    // no program at all: the namespace, its veth, addresses and routes by netlink from berthd
    let inside: RouteSocket | undefined;
    try {
      inside = createNetnsAt(file);
      if (first) await this.plumb(first, inside);
      if (options.dnsGateway !== undefined) await this.setSandboxDns(file, options.dnsGateway);
    } catch (err) {
      await this.destroyNetns(file).catch(() => undefined);
      throw err;
    } finally {
      inside?.close();
    }
  }

  /** berthd's bridges in another namespace (rootless): unshare, ip and nsenter do it there */
  private async createNetnsWithPrograms(file: string, first: EndpointPlumbing | undefined, options: NetnsOptions): Promise<void> {
    // one spawn from berthd (each fork copies its page tables: this is the hot path) makes the
    // namespace (bind-mounted on `file`), brings lo up and, for the first endpoint, creates the
    // veth inside with its peer pushed out to our namespace, where a second `ip` enslaves it
    const lines = ['link set lo up'];
    if (first) {
      lines.push(`link add ${first.ifName} mtu ${first.mtu} address ${first.mac} type veth peer name ${first.hostIfName} mtu ${first.mtu} netns ${this.bridgeNetns}`);
      lines.push(...insideLines(first));
    }
    // the lines hold only names, addresses and MACs berth made; quoted heredocs expand nothing
    let script = `set -e\nip -batch - <<'BERTH_INSIDE'\n${lines.join('\n')}\nBERTH_INSIDE\n`;
    if (first) script += `nsenter --net=${this.bridgeNetns} ip -batch - <<'BERTH_HOST'\n${hostSideLines(first).join('\n')}\nBERTH_HOST\n`;
    // the shell is still in the new namespace: its 127.0.0.11 table, in the same spawn
    if (options.dnsGateway !== undefined) script += `${ROUTE_LOCALNET}\nnft -f - <<'BERTH_DNS'\n${sandboxDnsScript(options.dnsGateway)}BERTH_DNS\n`;
    try {
      await runProgram('unshare', [`--net=${file}`, 'sh', '-s'], { input: script });
    } catch (err) {
      await this.destroyNetns(file).catch(() => undefined);
      throw err;
    }
  }

  async destroyNetns(file: string): Promise<void> {
    // the syscall (off the event loop) when it works; `umount` tells why when it does not
    if (!await unmountDetached(file)) {
      const result = await runProgram('umount', [file], { allowFailure: true });
      if (result.code !== 0 && !/not mounted|no mount point|not found/i.test(result.stderr)) {
        await runProgram('umount', ['-l', file], { allowFailure: true });
      }
    }
    try {
      await unlink(file);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  async addEndpoint(p: EndpointPlumbing): Promise<void> {
    if (this.where.netns !== undefined) {
      await this.addEndpointWithPrograms(p);
      return;
    }
    const inside = RouteSocket.openIn(p.netnsPath);
    try {
      await this.plumb(p, inside);
    } finally {
      inside.close();
    }
  }

  /**
   * The veth of an endpoint, made from our side with its peer sent into the container's
   * namespace; `inside` is a route socket there. What `ip` did: the same links, names, MAC,
   * addresses (IPv6 without DAD) and default routes. A failure deletes the veth again.
   */
  private async plumb(p: EndpointPlumbing, inside: RouteSocket): Promise<void> {
    const host = RouteSocket.open();
    const netns = await open(p.netnsPath, 'r');
    try {
      host.createVeth({ name: p.hostIfName, mtu: p.mtu, peer: { name: p.ifName, mtu: p.mtu, mac: p.mac, netnsFd: netns.fd } });
      try {
        host.setUp(p.hostIfName, host.linkIndex(p.bridge));
        // a container reaching its own published port comes back through the same bridge port
        host.setHairpin(p.hostIfName);
        const index = inside.linkIndex(p.ifName);
        if (p.ipv4) inside.addAddress(index, p.ipv4);
        if (p.ipv6) inside.addAddress(index, p.ipv6, { nodad: true });
        inside.setUp(p.ifName);
        if (p.defaultRoute && p.gateway4) inside.replaceDefaultRoute(index, p.gateway4);
        if (p.defaultRoute && p.gateway6) inside.replaceDefaultRoute(index, p.gateway6);
      } catch (err) {
        await host.deleteLink(p.hostIfName).catch(() => undefined);
        throw err;
      }
    } finally {
      await netns.close();
      host.close();
    }
  }

  private async addEndpointWithPrograms(p: EndpointPlumbing): Promise<void> {
    await this.ipBatch([
      `link add ${p.hostIfName} mtu ${p.mtu} type veth peer name ${p.ifName} mtu ${p.mtu} address ${p.mac} netns ${p.netnsPath}`,
      ...hostSideLines(p),
    ]);
    try {
      await runProgram('nsenter', [`--net=${p.netnsPath}`, 'ip', '-batch', '-'], { input: insideLines(p).join('\n') + '\n' });
    } catch (err) {
      await this.deleteLink(p.hostIfName).catch(() => undefined);
      throw err;
    }
  }

  async setSandboxDns(netnsPath: string, gateway: string | undefined): Promise<void> {
    const input = sandboxDnsScript(gateway);
    if (this.where.netns !== undefined) {
      // rootless berthd cannot come back from a container's namespace: nsenter goes for it
      const sysctl = gateway !== undefined ? `${ROUTE_LOCALNET} && ` : '';
      await runProgram('nsenter', [`--net=${netnsPath}`, 'sh', '-c', `${sysctl}exec nft -f -`], { input });
      return;
    }
    // /proc/sys/net is the namespace of the thread that opens it: a write from inside, then
    // the script run inside (by libnftables, or one nft started there: no nsenter or shell)
    if (gateway !== undefined) insideNetns(netnsPath, () => { writeFileSync(ROUTE_LOCALNET_FILE, '1'); });
    if (nftablesLibraryAvailable()) runNftablesInside(netnsPath, input);
    else await runProgram('nft', ['-f', '-'], { input, netns: netnsPath });
  }

  async applyFirewall(family: string, table: string, body: string): Promise<void> {
    // create-then-delete-then-define in one transaction: atomic whether or not it existed
    await this.nftScript(`table ${family} ${table} {}\ndelete table ${family} ${table}\ntable ${family} ${table} {\n${body}\n}\n`);
  }

  async deleteFirewall(family: string, table: string): Promise<void> {
    await this.nftScript(`table ${family} ${table} {}\ndelete table ${family} ${table}\n`);
  }

  /** `nft -f -` in the bridges' namespace: libnftables in berthd when it can (no exec), else nft */
  private async nftScript(script: string): Promise<void> {
    if (this.where.netns === undefined && nftablesLibraryAvailable()) await this.nftables.run(script);
    else await this.run('nft', ['-f', '-'], { input: script });
  }

  async listFirewallTables(): Promise<Array<{ family: string; name: string }>> {
    const result = await this.run('nft', ['-j', 'list', 'tables']);
    const parsed = nftTablesSchema.parse(JSON.parse(result.stdout || '{"nftables":[]}'));
    return parsed.nftables.flatMap((entry) => (entry.table ? [{ family: entry.table.family, name: entry.table.name }] : []));
  }

  async hostRoutes(): Promise<string[]> {
    const out: string[] = [];
    for (const family of ['-4', '-6']) {
      const result = await this.run('ip', ['-j', family, 'route', 'show', 'table', 'all'], { allowFailure: true });
      if (result.code !== 0) continue;
      const routes = routeListSchema.safeParse(JSON.parse(result.stdout || '[]'));
      if (!routes.success) continue;
      for (const r of routes.data) {
        if (r.dst === 'default') continue;
        out.push(r.dst.includes('/') ? r.dst : `${r.dst}/${family === '-4' ? 32 : 128}`);
      }
    }
    return out;
  }

  async setSysctl(key: string, value: string): Promise<void> {
    const file = path.join('/proc/sys', key);
    if (this.where.netns !== undefined) {
      // /proc/sys/net shows the namespace of the thread that opens it: write from inside
      await this.run('sh', ['-c', 'printf %s "$2" > "$1"', 'sh', file, value]);
      return;
    }
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current?.trim() === value) return;
    await writeFile(file, value);
  }
}

/** the DNATed DNS queries leave eth* with their loopback source (masqueraded there) */
const ROUTE_LOCALNET_FILE = '/proc/sys/net/ipv4/conf/all/route_localnet';
const ROUTE_LOCALNET = `echo 1 > ${ROUTE_LOCALNET_FILE}`;

/** nft -f input that (re)defines the sandbox's 127.0.0.11 table, or deletes it */
function sandboxDnsScript(gateway: string | undefined): string {
  const table = `ip ${SANDBOX_DNS_TABLE}`;
  const script = `table ${table} {}\ndelete table ${table}\n`;
  return gateway === undefined ? script : `${script}table ${table} {\n${renderSandboxDns(gateway)}\n}\n`;
}

/** A stable, locally administered unicast address for a bridge, from its name. */
export function bridgeMac(name: string): string {
  const bytes = createHash('sha256').update(`berth-bridge:${name}`).digest().subarray(0, 6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfe) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function hostSideLines(p: EndpointPlumbing): string[] {
  return [
    `link set ${p.hostIfName} master ${p.bridge} up`,
    // a container reaching its own published port comes back through the same bridge port
    `link set ${p.hostIfName} type bridge_slave hairpin on`,
  ];
}

/** addresses and routes of an endpoint, run inside its namespace */
function insideLines(p: EndpointPlumbing): string[] {
  const inside: string[] = [];
  if (p.ipv4) inside.push(`addr add ${p.ipv4} dev ${p.ifName}`);
  if (p.ipv6) inside.push(`addr add ${p.ipv6} dev ${p.ifName} nodad`);
  inside.push(`link set ${p.ifName} up`);
  if (p.defaultRoute && p.gateway4) inside.push(`route replace default via ${p.gateway4} dev ${p.ifName}`);
  if (p.defaultRoute && p.gateway6) inside.push(`route replace ::/0 via ${p.gateway6} dev ${p.ifName}`);
  return inside;
}


/** netns files left in a directory (for the startup sweep) */
export async function listNetnsFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).map((n) => path.join(dir, n));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}
