// User-mode networking for rootless berthd: no bridge, veth or nftables on the host (an
// unprivileged user may make none of them). Each container's network namespace gets its
// own pasta process, which gives it the host's address and default route and relays
// outbound traffic through host sockets. Containers of a rootless daemon therefore do not
// reach each other by address; see docs/rootless.md.
//
// Published ports: berthd binds the host port itself and relays each connection to a
// loopback-only pasta forward (pasta's "splice" path). Letting pasta bind the host port
// would keep remote clients' source addresses, but Debian 12's pasta (2023-03-09) leaves
// such connections half-open (SYN_RECV in the container) while loopback ones work; so
// containers see 127.0.0.1 as the peer of every published-port connection.
import { access, constants, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError, errnoCode } from '../errors/berth-error.js';
import { startPasta, stopPasta } from '../sys/pasta.js';
import { reservePort, type Reservation } from './port-reserver.js';
import type { PortMapping } from './ports.js';

export interface UserModePort {
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

export interface UserModeAttachment {
  /** the namespace's address as "a.b.c.d/len" (pasta copies the host's), undefined when unknown */
  ipv4: string | undefined;
  gateway4: string | undefined;
  ports: UserModePort[];
}

/** What the networks service needs from a user-mode backend. */
export interface UserModeNetworking {
  readonly name: string;
  /** a clear error when this backend cannot work for the user (called at container start) */
  check(): Promise<void>;
  attach(containerId: string, netnsPath: string, mappings: readonly PortMapping[]): Promise<UserModeAttachment>;
  detach(containerId: string): Promise<void>;
  /** after a crash: stop the relays of containers not in `keep` */
  sweep(keep: ReadonlySet<string>): Promise<void>;
}

const TUN = '/dev/net/tun';

export class PastaNetworking implements UserModeNetworking {
  readonly name = 'pasta';
  /** the host-port relays of each container */
  private readonly relays = new Map<string, Reservation[]>();

  /** stateDir holds one pid file per container: <containerId>.pid */
  constructor(private readonly stateDir: string) {}

  async check(): Promise<void> {
    try {
      await access(TUN, constants.R_OK | constants.W_OK);
    } catch (cause) {
      throw new BerthError('unavailable', 'NO_TUN_DEVICE', `rootless networking needs read-write access to ${TUN} (${errnoCode(cause) ?? 'error'})`, {
        cause, hint: `on Debian udev makes it mode 0666; without udev: chmod 0666 ${TUN}. Or run the container with --network none or host`,
      });
    }
  }

  async attach(containerId: string, netnsPath: string, mappings: readonly PortMapping[]): Promise<UserModeAttachment> {
    await this.check();
    const inner = await loopbackForwards(mappings);
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await startPasta({
      netnsPath, pidFile: this.pidFile(containerId),
      tcp: inner.filter((p) => p.protocol === 'tcp').map(pastaSpec),
      udp: inner.filter((p) => p.protocol === 'udp').map(pastaSpec),
    });
    const held: Reservation[] = [];
    this.relays.set(containerId, held);
    const ports: UserModePort[] = [];
    try {
      for (const [i, mapping] of mappings.entries()) {
        const forward = inner[i] as UserModePort;
        const reservation = await reservePort(mapping, { ip: '127.0.0.1', port: forward.hostPort });
        held.push(reservation);
        ports.push({ protocol: forward.protocol, hostIp: mapping.hostIp, hostPort: reservation.hostPort, containerPort: mapping.containerPort });
      }
    } catch (err) {
      await this.detach(containerId);
      throw err;
    }
    const route = await defaultRoute();
    return { ipv4: route?.address, gateway4: route?.gateway, ports };
  }

  async detach(containerId: string): Promise<void> {
    for (const relay of this.relays.get(containerId) ?? []) await relay.close();
    this.relays.delete(containerId);
    const file = this.pidFile(containerId);
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) await stopPasta(pid);
    await rm(file, { force: true });
  }

  async sweep(keep: ReadonlySet<string>): Promise<void> {
    let files: string[];
    try {
      files = await readdir(this.stateDir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const file of files) {
      const id = file.replace(/\.pid$/, '');
      if (file.endsWith('.pid') && !keep.has(id)) await this.detach(id);
    }
  }

  private pidFile(containerId: string): string {
    return path.join(this.stateDir, `${containerId}.pid`);
  }
}

/** "[addr/]host:container" as pasta's -t/-u take it */
export function pastaSpec(port: UserModePort): string {
  const address = port.hostIp === '' || port.hostIp === '0.0.0.0' || port.hostIp === '::' ? '' : `${port.hostIp}/`;
  return `${address}${port.hostPort}:${port.containerPort}`;
}

/**
 * One loopback-only pasta forward per mapping, on a free port found by binding it briefly
 * (pasta must bind it itself), in the order of `mappings`.
 */
async function loopbackForwards(mappings: readonly PortMapping[]): Promise<UserModePort[]> {
  const out: UserModePort[] = [];
  for (const m of mappings) {
    if (m.protocol === 'sctp') {
      throw new BerthError('not_implemented', 'SCTP_ROOTLESS', `cannot publish sctp port ${m.containerPort}: rootless networking (pasta) relays tcp and udp only`);
    }
    const probe = await reservePort({ protocol: m.protocol, containerPort: m.containerPort, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 });
    await probe.close();
    out.push({ protocol: m.protocol, hostIp: '127.0.0.1', hostPort: probe.hostPort, containerPort: m.containerPort });
  }
  return out;
}

/** The host interface with the default route (the one pasta copies), from /proc/net/route. */
async function defaultRoute(): Promise<{ address: string; gateway: string } | undefined> {
  const table = await readFile('/proc/net/route', 'utf8').catch(() => '');
  for (const line of table.split('\n').slice(1)) {
    const [iface, destination, gatewayHex] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || !gatewayHex) continue;
    const v4 = (os.networkInterfaces()[iface] ?? []).find((a) => a.family === 'IPv4');
    if (!v4) continue;
    const gateway = [0, 2, 4, 6].map((i) => parseInt(gatewayHex.slice(i, i + 2), 16)).reverse().join('.');
    return { address: v4.cidr ?? `${v4.address}/32`, gateway };
  }
  return undefined;
}
