// rtnetlink requests as bytes (linux/rtnetlink.h, if_link.h, veth.h, if_addr.h): pure, so
// every message is unit-tested without a kernel. Host byte order (little-endian x86_64/arm64).
import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from '../errors/berth-error.js';

export const RTM = { NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, NEWROUTE: 24 } as const;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F = { REQUEST: 0x1, ACK: 0x4, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;
const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 0x1;
const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, MASTER: 10, LINKINFO: 18, NET_NS_FD: 28 } as const;
const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT_MODE = 4; // hairpin
const IFA = { ADDRESS: 1, LOCAL: 2 } as const;
const IFA_F_NODAD = 0x02;
const RTA = { DST: 1, OIF: 4, GATEWAY: 5 } as const;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
const NLMSG_HEADER = 16;
/** an interface name the kernel accepts: IFNAMSIZ-1 bytes, no slash, colon or whitespace */
const LINK_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

function align4(n: number): number {
  return (n + 3) & ~3;
}

function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

function nested(type: number, ...children: Buffer[]): Buffer {
  return attr(type, Buffer.concat(children));
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value, 0);
  return out;
}

function linkName(name: string): Buffer {
  if (!LINK_NAME.test(name)) throw invalidArgument('INVALID_LINK_NAME', `invalid network interface name "${name}"`);
  return Buffer.from(`${name}\0`);
}

function macBytes(mac: string): Buffer {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw invalidArgument('INVALID_MAC', `invalid MAC address "${mac}"`);
  return Buffer.from(mac.split(':').map((b) => parseInt(b, 16)));
}

/** struct ifinfomsg */
function ifinfo(index = 0, up = false): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt8(AF_UNSPEC, 0);
  out.writeInt32LE(index, 4);
  out.writeUInt32LE(up ? IFF_UP : 0, 8);
  out.writeUInt32LE(up ? IFF_UP : 0, 12);
  return out;
}

/** Address bytes and family of an IPv4 or IPv6 address. */
export function ipBytes(ip: string): { family: number; bytes: Buffer } {
  if (isIPv4(ip)) return { family: AF_INET, bytes: Buffer.from(ip.split('.').map(Number)) };
  // berth's own addresses only: no embedded IPv4 form
  if (!isIPv6(ip) || ip.includes('.')) throw invalidArgument('INVALID_ADDRESS', `invalid IP address "${ip}"`);
  const [head = '', tail] = ip.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  return { family: AF_INET6, bytes };
}

/** A request: nlmsghdr + body. The port id is 0 (the kernel fills in ours). */
export function request(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const header = Buffer.alloc(NLMSG_HEADER);
  header.writeUInt32LE(NLMSG_HEADER + body.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags | NLM_F.REQUEST | NLM_F.ACK, 6);
  header.writeUInt32LE(seq, 8);
  return Buffer.concat([header, body]);
}

export interface VethSpec {
  name: string;
  mtu: number;
  mac?: string;
  peer: { name: string; mtu: number; mac?: string; netnsFd: number };
}

/** ip link add NAME mtu M [address MAC] type veth peer name PEER mtu M [address MAC] netns FD */
export function newVeth(spec: VethSpec): Buffer {
  const side = (name: string, mtu: number, mac: string | undefined): Buffer[] => [
    attr(IFLA.IFNAME, linkName(name)), attr(IFLA.MTU, u32(mtu)), ...(mac !== undefined ? [attr(IFLA.ADDRESS, macBytes(mac))] : []),
  ];
  const peer = Buffer.concat([ifinfo(), ...side(spec.peer.name, spec.peer.mtu, spec.peer.mac), attr(IFLA.NET_NS_FD, u32(spec.peer.netnsFd))]);
  return Buffer.concat([
    ifinfo(), ...side(spec.name, spec.mtu, spec.mac),
    nested(IFLA.LINKINFO, attr(IFLA_INFO.KIND, Buffer.from('veth')), nested(IFLA_INFO.DATA, attr(VETH_INFO_PEER, peer))),
  ]);
}

/** ip link set NAME [master INDEX] up */
export function setLinkUp(name: string, masterIndex?: number): Buffer {
  return Buffer.concat([ifinfo(0, true), attr(IFLA.IFNAME, linkName(name)), ...(masterIndex !== undefined ? [attr(IFLA.MASTER, u32(masterIndex))] : [])]);
}

/** ip link set NAME type bridge_slave hairpin on (the link must be a bridge port already) */
export function setHairpin(name: string): Buffer {
  return Buffer.concat([ifinfo(), attr(IFLA.IFNAME, linkName(name)),
    nested(IFLA.LINKINFO, attr(IFLA_INFO.SLAVE_KIND, Buffer.from('bridge')), nested(IFLA_INFO.SLAVE_DATA, attr(IFLA_BRPORT_MODE, Buffer.from([1]))))]);
}

/** a link by name: ip link del NAME, or the query for its index */
export function linkByName(name: string): Buffer {
  return Buffer.concat([ifinfo(), attr(IFLA.IFNAME, linkName(name))]);
}

/** ip addr add CIDR dev INDEX [nodad] */
export function newAddress(index: number, cidr: string, options: { nodad?: boolean } = {}): Buffer {
  const [ip = '', prefix = ''] = cidr.split('/');
  const { family, bytes } = ipBytes(ip);
  const length = Number(prefix);
  if (!/^\d+$/.test(prefix) || length > bytes.length * 8) throw invalidArgument('INVALID_ADDRESS', `invalid address "${cidr}": a prefix length is needed`);
  const header = Buffer.alloc(8);
  header.writeUInt8(family, 0);
  header.writeUInt8(length, 1);
  header.writeUInt8(options.nodad ? IFA_F_NODAD : 0, 2);
  header.writeUInt32LE(index, 4);
  return Buffer.concat([header, attr(IFA.LOCAL, bytes), attr(IFA.ADDRESS, bytes)]);
}

/** ip route replace default via GATEWAY dev INDEX (send with CREATE|REPLACE) */
export function defaultRoute(index: number, gateway: string): Buffer {
  const { family, bytes } = ipBytes(gateway);
  const header = Buffer.alloc(12);
  header.writeUInt8(family, 0);
  header.writeUInt8(RT_TABLE_MAIN, 4);
  header.writeUInt8(RTPROT_BOOT, 5);
  header.writeUInt8(RTN_UNICAST, 7);
  return Buffer.concat([header, attr(RTA.GATEWAY, bytes), attr(RTA.OIF, u32(index))]);
}

export interface Reply {
  type: number;
  seq: number;
  /** NLMSG_ERROR: 0 for an ack, else a negative errno */
  error?: number;
  /** RTM_NEWLINK: ifinfomsg.ifi_index */
  index?: number;
}

/** The messages in one datagram read from the socket. */
export function parseReplies(data: Buffer): Reply[] {
  const out: Reply[] = [];
  for (let off = 0; off + NLMSG_HEADER <= data.length;) {
    const length = data.readUInt32LE(off);
    if (length < NLMSG_HEADER || off + length > data.length) break;
    const type = data.readUInt16LE(off + 4);
    const reply: Reply = { type, seq: data.readUInt32LE(off + 8) };
    if (type === NLMSG_ERROR && length >= NLMSG_HEADER + 4) reply.error = data.readInt32LE(off + NLMSG_HEADER);
    if (type === RTM.NEWLINK && length >= NLMSG_HEADER + 16) reply.index = data.readInt32LE(off + NLMSG_HEADER + 4);
    out.push(reply);
    off += align4(length);
  }
  return out;
}
