// Host ports of published mappings are reserved by binding them (so a port already in use is
// reported at start, and nothing else takes it while the container runs). In proxy mode the
// reserving socket also carries the traffic to the container (a userland proxy).
import net from 'node:net';
import dgram from 'node:dgram';
import { conflict, errnoCode } from '../errors/berth-error.js';
import { PortMapping } from './ports.js';

export interface Reservation {
  hostIp: string;
  hostPort: number;
  close(): Promise<void>;
}

export interface ProxyTarget {
  ip: string;
  port: number;
  /**
   * The upstream connection for a client (default: net.connect from this namespace). Rootless
   * berthd makes it in its rootless netns, bound to the client's address where it can.
   */
  connectTcp?(client: net.Socket): net.Socket;
  /** the upstream socket for a UDP client (default: an unbound one here); sends go to ip:port */
  udpSocket?(client: dgram.RemoteInfo): dgram.Socket;
}

function connectUpstream(target: ProxyTarget, client: net.Socket): net.Socket | undefined {
  try {
    return target.connectTcp ? target.connectTcp(client) : net.connect(target.port, target.ip);
  } catch {
    // no upstream (its namespace is gone): the client sees the connection closed
    return undefined;
  }
}

const UDP_IDLE_MS = 30_000;

function bindAddress(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

async function listenTcp(address: string, port: number, target: ProxyTarget | undefined, ipv6Only: boolean): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = target ? connectUpstream(target, client) : undefined;
    if (!upstream) { client.destroy(); return; }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: address, exclusive: true, ipv6Only }, () => { server.off('error', reject); resolve(); });
  });
  return server;
}

async function bindUdp(address: string, port: number, target: ProxyTarget | undefined, ipv6Only: boolean): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', ipv6Only });
  const clients = new Map<string, { socket: dgram.Socket; timer: NodeJS.Timeout }>();
  if (target) {
    socket.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let entry = clients.get(key);
      if (!entry) {
        let upstream: dgram.Socket;
        try {
          upstream = target.udpSocket ? target.udpSocket(rinfo) : dgram.createSocket(net.isIPv6(target.ip) ? 'udp6' : 'udp4');
        } catch {
          return; // dropped, as a datagram may be
        }
        upstream.on('message', (reply) => socket.send(reply, rinfo.port, rinfo.address));
        upstream.on('error', () => undefined);
        entry = { socket: upstream, timer: setTimeout(() => undefined, 0) };
        clients.set(key, entry);
      }
      clearTimeout(entry.timer);
      const current = entry;
      entry.timer = setTimeout(() => { current.socket.close(); clients.delete(key); }, UDP_IDLE_MS);
      entry.socket.send(msg, target.port, target.ip);
    });
    socket.on('close', () => {
      for (const c of clients.values()) { clearTimeout(c.timer); c.socket.close(); }
      clients.clear();
    });
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address, exclusive: true }, () => { socket.off('error', reject); resolve(); });
  });
  socket.on('error', () => undefined);
  return socket;
}

/**
 * Binds the mapping's host port (the first free one of its range; any when 0). With a proxy
 * target, connections to the socket are relayed to the container. An IPv6 address binds IPv6
 * only, so "::" and "0.0.0.0" of the same port are two reservations.
 */
export async function reservePort(mapping: PortMapping, target?: ProxyTarget): Promise<Reservation> {
  const address = bindAddress(mapping.hostIp);
  const ipv6Only = net.isIPv6(address);
  const candidates: number[] = [];
  if (mapping.hostPortStart === 0) candidates.push(0);
  else for (let p = mapping.hostPortStart; p <= mapping.hostPortEnd; p++) candidates.push(p);
  let lastError: unknown;
  for (const port of candidates) {
    try {
      if (mapping.protocol === 'udp') {
        const socket = await bindUdp(address, port, target, ipv6Only);
        return { hostIp: mapping.hostIp, hostPort: socket.address().port, close: async () => { socket.close(); await Promise.resolve(); } };
      }
      if (mapping.protocol === 'sctp') {
        // node cannot bind SCTP; the kernel DNAT still serves it
        return { hostIp: mapping.hostIp, hostPort: port, close: async () => undefined };
      }
      const server = await listenTcp(address, port, target, ipv6Only);
      const bound = server.address();
      const hostPort = typeof bound === 'object' && bound ? bound.port : port;
      return { hostIp: mapping.hostIp, hostPort, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    } catch (err) {
      lastError = err;
      if (errnoCode(err) !== 'EADDRINUSE' && errnoCode(err) !== 'EACCES') break;
    }
  }
  const range = mapping.hostPortStart === mapping.hostPortEnd ? `${mapping.hostPortStart}` : `${mapping.hostPortStart}-${mapping.hostPortEnd}`;
  throw conflict('PORT_ALLOCATED',
    `cannot publish ${mapping.protocol} port ${range} on ${address}: ${errnoCode(lastError) === 'EADDRINUSE' ? 'address already in use' : String(lastError)}`,
    { cause: lastError, hint: 'choose another host port or stop what is bound to it' });
}
