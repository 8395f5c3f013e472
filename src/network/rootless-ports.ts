// Published ports of rootless berthd: berthd binds the host port (port-reserver.ts, so a port
// in use is an error at start, as rootful) and relays every connection or datagram through a
// socket made inside the rootless netns (rootless-netns.ts), straight to the container.
//
// What the container sees as the peer: the client's own address and a new port, for every
// client that is not on the host's loopback (the relay socket is bound transparently to it,
// and the rootless netns routes the replies back to that socket). A loopback client cannot
// be kept (127.0.0.1 may not leave a namespace's lo), so, as with rootful berth's DNAT of
// published 127.0.0.1 ports, it appears as the gateway of the container's network.
import dgram from 'node:dgram';
import net from 'node:net';
import type { SocketRequest } from '../sys/netns-sockets.js';
import type { ProxyTarget } from './port-reserver.js';

/** What the relay needs of the rootless netns: sockets made in it. */
export interface RelaySockets {
  socket(request: SocketRequest): number;
}

/** What the networks service asks of rootless berthd's rootless netns. */
export interface RootlessNetworking {
  /** the namespace file that holds the bridges (the network kernel works there) */
  readonly netnsPath: string;
  /** network inspect's Options["berth.port-forwarding"] */
  readonly portForwarding: string;
  /** UDP and TCP sockets bound to address:0 in the rootless netns, for an embedded DNS server */
  dnsSockets(address: string): { udpFd: number; tcpFd: number };
  /** where a published port's host socket relays to */
  proxyTarget(containerIp: string, containerPort: number): ProxyTarget;
}

/** "::ffff:10.0.0.2" (a v4 client of a dual-stack socket) -> "10.0.0.2" */
function plainIPv4(address: string | undefined): string | undefined {
  const plain = address?.replace(/^::ffff:/i, '');
  return plain !== undefined && net.isIPv4(plain) ? plain : undefined;
}

/** The client's address when the container may see it: IPv4, not loopback. */
export function keptSource(address: string | undefined, keepsClientAddress: boolean): string | undefined {
  const v4 = plainIPv4(address);
  return keepsClientAddress && v4 !== undefined && !v4.startsWith('127.') ? v4 : undefined;
}

export function describeRootlessPorts(keepsClientAddress: boolean): string {
  return keepsClientAddress
    ? 'rootless-relay: berthd binds the host port and connects from the rootless netns bound to the client\'s address '
      + '(containers see the client\'s address; loopback clients appear as the network gateway)'
    : 'rootless-relay: berthd binds the host port and connects from the rootless netns (containers see the network gateway as the peer)';
}

/** A proxy target whose upstream sockets live in the rootless netns. */
export function rootlessProxyTarget(sockets: RelaySockets, keepsClientAddress: boolean, ip: string, port: number): ProxyTarget {
  return {
    ip, port,
    connectTcp: (client) => {
      const source = keptSource(client.remoteAddress, keepsClientAddress);
      const fd = sockets.socket({ protocol: 'tcp', ...(source !== undefined ? { address: source, port: 0, transparent: true } : {}) });
      return new net.Socket({ fd, readable: true, writable: true }).connect(port, ip);
    },
    udpSocket: (client) => {
      const source = keptSource(client.address, keepsClientAddress);
      // the client's port too: a UDP peer answers where the datagram came from
      const fd = sockets.socket(source !== undefined
        ? { protocol: 'udp', address: source, port: client.port, transparent: true }
        : { protocol: 'udp', address: '0.0.0.0', port: 0 });
      const socket = dgram.createSocket('udp4');
      socket.bind({ fd });
      return socket;
    },
  };
}
