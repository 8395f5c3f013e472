// The embedded DNS server of user-defined networks: one UDP and one TCP listener per network
// on its gateway address (containers reach it as 127.0.0.11:53 through NAT). It answers the
// container names and aliases of the networks the asking container is on (names are
// network-scoped) and forwards everything else to the container's --dns servers or the host's
// resolvers.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { isIP } from 'node:net';

export interface NameRecords {
  a: string[];
  aaaa: string[];
}

/** What one network's listener asks of the service; client is the asking address. */
export interface DnsZone {
  lookup(name: string, client?: string): NameRecords | undefined;
  /** PTR: the name for an address of this network */
  reverse(ip: string, client?: string): string | undefined;
  /** the asking container's own upstream servers (--dns); undefined: the host's */
  upstreams?(client: string): readonly string[] | undefined;
}

export interface DnsListener {
  udpPort: number;
  tcpPort: number;
  close(): Promise<void>;
}

const TTL = 600;
const RCODES = { NOERROR: 0, SERVFAIL: 2 } as const;
const UPSTREAM_TIMEOUT_MS = 2000;
const MAX_TCP_MESSAGE = 65535;

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4" (IPv4 only; IPv6 PTR is forwarded) */
function ptrToIp(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/i.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

export class EmbeddedDns {
  constructor(private readonly upstreams: readonly string[]) {}

  /**
   * Listens on address (ephemeral ports); the firewall redirects address:53 here. `bound`:
   * sockets already bound to it in another network namespace (rootless berthd's) to serve on.
   */
  async listen(address: string, zone: DnsZone, bound?: { udpFd: number; tcpFd: number }): Promise<DnsListener> {
    const type = isIP(address) === 6 ? 'udp6' : 'udp4';
    const udp = dgram.createSocket({ type });
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, zone, rinfo.address).then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      const done = (): void => { udp.off('error', reject); resolve(); };
      if (bound) udp.bind({ fd: bound.udpFd }, done);
      else udp.bind(0, address, done);
    });
    const tcp = net.createServer((socket) => this.serveTcp(socket, zone));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        const done = (): void => { tcp.off('error', reject); resolve(); };
        if (bound) tcp.listen({ fd: bound.tcpFd }, done);
        else tcp.listen(0, address, done);
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    const tcpAddress = tcp.address();
    return {
      udpPort: udp.address().port,
      tcpPort: typeof tcpAddress === 'object' && tcpAddress ? tcpAddress.port : 0,
      close: async () => {
        udp.close();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      },
    };
  }

  private serveTcp(socket: net.Socket, zone: DnsZone): void {
    let buffer = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > MAX_TCP_MESSAGE + 2) { socket.destroy(); return; }
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (buffer.length < 2 + length) break;
        const message = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        void this.answer(message, zone, socket.remoteAddress?.replace(/^::ffff:/, '')).then((reply) => {
          if (!reply || socket.destroyed) return;
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        });
      }
    });
  }

  /** The reply to one query message, or undefined for garbage (dropped, as servers do). */
  async answer(message: Buffer, zone: DnsZone, client?: string): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return undefined;
    const name = question.name.replace(/\.$/, '').toLowerCase();
    const local = this.answerLocally(query, question, name, zone, client);
    if (local) return local;
    const upstreams = (client !== undefined ? zone.upstreams?.(client) : undefined) ?? this.upstreams;
    return (await forward(upstreams, message)) ?? this.reply(query, 'SERVFAIL', []);
  }

  private answerLocally(query: dnsPacket.Packet, question: dnsPacket.Question, name: string, zone: DnsZone, client: string | undefined): Buffer | undefined {
    if (question.type === 'PTR') {
      const ip = ptrToIp(name);
      const target = ip ? zone.reverse(ip, client) : undefined;
      if (!target) return undefined;
      return this.reply(query, 'NOERROR', [{ type: 'PTR', name: question.name, ttl: TTL, data: target }]);
    }
    const records = zone.lookup(name, client);
    if (!records) return undefined;
    const answers: dnsPacket.Answer[] = [];
    const qtype: string = question.type;
    if (qtype === 'A' || qtype === 'ANY') {
      for (const ip of records.a) answers.push({ type: 'A', name: question.name, ttl: TTL, data: ip });
    }
    if (qtype === 'AAAA' || qtype === 'ANY') {
      for (const ip of records.aaaa) answers.push({ type: 'AAAA', name: question.name, ttl: TTL, data: ip });
    }
    // a known name without records of this type: NOERROR and no answers (NODATA)
    return this.reply(query, 'NOERROR', answers);
  }

  private reply(query: dnsPacket.Packet, rcode: 'NOERROR' | 'SERVFAIL', answers: dnsPacket.Answer[]): Buffer {
    // RD is echoed and RA set, since we recurse through the host's resolvers; the rcode is
    // the low 4 bits of the flags
    const flags = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    return dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: flags | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER | RCODES[rcode],
      questions: query.questions ?? [],
      answers,
    });
  }

}

/** Forward the raw query to each upstream in turn (UDP), returning the first reply. */
async function forward(upstreams: readonly string[], message: Buffer): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    const reply = await queryUpstream(upstream, message).catch(() => undefined);
    if (reply) return reply;
  }
  return undefined;
}

async function queryUpstream(upstream: string, message: Buffer): Promise<Buffer | undefined> {
  const [host, portText] = upstream.includes('#') ? upstream.split('#') : [upstream, '53'];
  const address = host ?? upstream;
  const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  return await new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => { socket.close(); resolve(undefined); }, UPSTREAM_TIMEOUT_MS);
    socket.on('error', () => { clearTimeout(timer); socket.close(); resolve(undefined); });
    socket.on('message', (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === message.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.close();
        resolve(reply);
      }
    });
    socket.send(message, Number(portText ?? '53'), address);
  });
}
