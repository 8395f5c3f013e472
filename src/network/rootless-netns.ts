// The rootless netns: one network namespace per rootless berthd, as podman has, that holds
// berth's ordinary bridge networks (bridges, veths, the nftables table, the embedded DNS),
// made by the daemon (root of its user namespace, so CAP_NET_ADMIN there) and connected to
// the outside by one pasta. Containers on one network reach each other by address and name
// exactly as with rootful berth; only the host's namespace is out of reach.
//
// Published ports: berthd binds the host port (in the host's namespace) and relays each
// connection through a socket it makes inside the rootless netns (rootless-ports.ts). Such
// a socket is bound transparently to the client's own address (IP_TRANSPARENT), so the
// container sees the real peer; the replies are routed back to the socket by a mark set on
// packets that belong to a transparent socket and a policy route (the classic TPROXY reply
// path), both kept here.
import { closeSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { access, constants, mkdir, open, readFile, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, errnoCode } from '../errors/berth-error.js';
import { runProgram } from '../sys/exec.js';
import { unmountDetached } from '../sys/fs-native.js';
import { NetnsSocketFactory } from '../sys/netns-sockets.js';
import { startPasta, stopPasta } from '../sys/pasta.js';
import { describeRootlessPorts, rootlessProxyTarget, type RootlessNetworking } from './rootless-ports.js';

const TUN = '/dev/net/tun';
/** fwmark and routing table of the transparent relay's reply path (the namespace is ours alone) */
export const RELAY_MARK = 0x2b;
export const RELAY_TABLE = 43;
/** the table berth keeps in the rootless netns besides the instance's firewall table */
export const RELAY_NFT_TABLE = 'berth-rootless-relay';

/** The lines (ip -batch, nft -f) that make the reply path of transparent relay sockets. */
export function relayReplyPath(): { ip: string[]; nft: string } {
  return {
    ip: [`rule add fwmark ${RELAY_MARK} lookup ${RELAY_TABLE} priority 100`, `route add local 0.0.0.0/0 dev lo table ${RELAY_TABLE}`],
    nft: [
      `table ip ${RELAY_NFT_TABLE} {`,
      '  chain prerouting {',
      '    type filter hook prerouting priority mangle; policy accept;',
      // a container's reply to a client address that is not ours belongs to a relay socket
      `    socket transparent 1 meta mark set ${RELAY_MARK}`,
      '  }',
      '}',
    ].join('\n') + '\n',
  };
}

export interface RootlessNetnsState {
  /** the namespace file (a bind mount in berthd's private mount namespace) */
  readonly netnsPath: string;
  /** reachable outside the host through pasta; false when pasta could not start */
  readonly outside: boolean;
  /** published ports keep the client's address (the reply path could be made) */
  readonly keepsClientAddress: boolean;
  /** what went wrong, for info.Warnings */
  readonly warnings: readonly string[];
}

export class RootlessNetns implements RootlessNetnsState {
  readonly netnsPath: string;
  readonly sockets: NetnsSocketFactory;
  outside = false;
  keepsClientAddress = false;
  readonly warnings: string[] = [];
  private readonly pidFile: string;

  /** stateDir: <exec-root>/rootless-netns (the netns file and pasta's pid file) */
  constructor(private readonly stateDir: string) {
    this.netnsPath = path.join(stateDir, 'netns');
    this.pidFile = path.join(stateDir, 'pasta.pid');
    this.sockets = new NetnsSocketFactory(this.netnsPath);
  }

  /** Sweeps what a previous daemon left, then makes the namespace and starts its pasta. */
  async open(): Promise<void> {
    await this.sweep();
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await (await open(this.netnsPath, 'a', 0o444)).close();
    const reply = relayReplyPath();
    // lo, and the relay's reply path, in the spawn that makes the namespace
    const script = `set -e\nip -batch - <<'BERTH_IP'\nlink set lo up\nBERTH_IP\n`;
    const relay = `ip -batch - <<'BERTH_RELAY'\n${reply.ip.join('\n')}\nBERTH_RELAY\nnft -f - <<'BERTH_NFT'\n${reply.nft}BERTH_NFT\n`;
    try {
      await runProgram('unshare', [`--net=${this.netnsPath}`, 'sh', '-s'], { input: script });
    } catch (err) {
      await this.removeNetns();
      throw err;
    }
    const made = await runProgram('nsenter', [`--net=${this.netnsPath}`, 'sh', '-s'], { input: `set -e\n${relay}`, allowFailure: true });
    this.keepsClientAddress = made.code === 0;
    if (!this.keepsClientAddress) {
      this.warnings.push(`rootless: published ports cannot keep the client's address (${made.stderr.trim().split('\n')[0] ?? ''}); `
        + 'containers see their network\'s gateway as the peer of every published-port connection');
    }
    await this.sockets.start();
    await this.startPasta();
  }

  private async startPasta(): Promise<void> {
    try {
      await access(TUN, constants.R_OK | constants.W_OK);
    } catch (cause) {
      this.warnings.push(`rootless: containers have no network beyond berth's own networks: pasta needs read-write access to ${TUN} `
        + `(${errnoCode(cause) ?? 'error'}; udev makes it 0666 on Debian, without udev: chmod 0666 ${TUN})`);
      return;
    }
    try {
      await startPasta({ netnsPath: this.netnsPath, pidFile: this.pidFile, tcp: [], udp: [] });
      this.outside = true;
    } catch (err) {
      this.warnings.push(`rootless: containers have no network beyond berth's own networks: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** What the networks service uses (after open()). */
  networking(): RootlessNetworking {
    const sockets = this.sockets;
    const keep = this.keepsClientAddress;
    return {
      netnsPath: this.netnsPath,
      portForwarding: describeRootlessPorts(keep),
      dnsSockets: (address) => {
        const udpFd = sockets.socket({ protocol: 'udp', address, port: 0 });
        try {
          return { udpFd, tcpFd: sockets.socket({ protocol: 'tcp', address, port: 0 }) };
        } catch (err) {
          closeSync(udpFd);
          throw err;
        }
      },
      proxyTarget: (ip, port) => rootlessProxyTarget(sockets, keep, ip, port),
    };
  }

  /** Stops pasta and removes the namespace (bridges, veths and tables go with it). */
  async close(): Promise<void> {
    await this.sockets.close();
    await this.sweep();
  }

  /** pasta named by the pid file, and the namespace file, of this or an earlier daemon */
  private async sweep(): Promise<void> {
    const pid = Number((await readFile(this.pidFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) await stopPastaAndWait(pid);
    await rm(this.pidFile, { force: true });
    await this.removeNetns();
  }

  private async removeNetns(): Promise<void> {
    // a file left by a daemon whose mount namespace is gone is a plain file: unmount fails, unlink works
    await unmountDetached(this.netnsPath).catch(() => false);
    try {
      await unlink(this.netnsPath);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new BerthError('internal', 'ROOTLESS_NETNS_REMOVE', `cannot remove ${this.netnsPath}: ${String(err)}`, { cause: err });
    }
  }
}

/**
 * pasta is not our child (it daemonizes), so it is waited for by its /proc entry: a stopped
 * daemon must leave nothing, and an old pasta still exiting would remove the pid file a new
 * one just wrote. SIGTERM, then SIGKILL after 2 s.
 */
async function stopPastaAndWait(pid: number): Promise<void> {
  await stopPasta(pid);
  for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await sleep(10);
  if (!existsSync(`/proc/${pid}`)) return;
  await stopPasta(pid, 'SIGKILL');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(10);
}
