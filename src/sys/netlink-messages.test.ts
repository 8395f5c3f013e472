import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../errors/berth-error.js';
import { defaultRoute, ipBytes, linkByName, newAddress, newVeth, NLM_F, NLMSG_ERROR, parseReplies, request, RTM, setHairpin, setLinkUp } from './netlink-messages.js';

interface Attr { type: number; payload: Buffer }

/** the rtattrs of `data` from `offset`, checking that their lengths tile it exactly */
function attrs(data: Buffer, offset = 0): Attr[] {
  const out: Attr[] = [];
  let off = offset;
  while (off < data.length) {
    const length = data.readUInt16LE(off);
    assert.ok(length >= 4 && off + length <= data.length, `attribute at ${off} overruns`);
    out.push({ type: data.readUInt16LE(off + 2), payload: data.subarray(off + 4, off + length) });
    off += (length + 3) & ~3;
  }
  assert.equal(off, data.length);
  return out;
}

function only(list: Attr[], type: number): Buffer {
  const found = list.filter((a) => a.type === type);
  assert.equal(found.length, 1, `attribute ${type}`);
  return (found[0] as Attr).payload;
}

test('a request has its length, type, sequence and asks for an ack', () => {
  const body = linkByName('bvabc');
  const message = request(RTM.DELLINK, 0, 7, body);
  assert.equal(message.readUInt32LE(0), message.length);
  assert.equal(message.readUInt16LE(4), RTM.DELLINK);
  assert.equal(message.readUInt16LE(6), NLM_F.REQUEST | NLM_F.ACK);
  assert.equal(message.readUInt32LE(8), 7);
  assert.deepEqual(message.subarray(16), body);
});

test('a veth names both ends, puts the MAC and namespace fd on the peer, nested as the kernel reads it', () => {
  const body = newVeth({ name: 'bv12345', mtu: 1500, peer: { name: 'eth0', mtu: 1400, mac: '02:42:ac:11:00:02', netnsFd: 37 } });
  const top = attrs(body, 16);
  assert.equal(only(top, 3).toString(), 'bv12345\0');
  assert.equal(only(top, 4).readUInt32LE(0), 1500);
  const linkinfo = attrs(only(top, 18));
  assert.equal(only(linkinfo, 1).toString(), 'veth');
  const peer = only(attrs(only(linkinfo, 2)), 1);
  const peerAttrs = attrs(peer, 16); // after the peer's own ifinfomsg
  assert.equal(only(peerAttrs, 3).toString(), 'eth0\0');
  assert.equal(only(peerAttrs, 4).readUInt32LE(0), 1400);
  assert.deepEqual([...only(peerAttrs, 1)], [0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
  assert.equal(only(peerAttrs, 28).readUInt32LE(0), 37);
});

test('link up sets IFF_UP in flags and change, and the master when given', () => {
  const body = setLinkUp('bv1', 9);
  assert.equal(body.readUInt32LE(8), 1);
  assert.equal(body.readUInt32LE(12), 1);
  assert.equal(only(attrs(body, 16), 10).readUInt32LE(0), 9);
  assert.equal(attrs(setLinkUp('lo'), 16).length, 1);
});

test('hairpin is the bridge port mode in the slave data of the bridge', () => {
  const linkinfo = attrs(only(attrs(setHairpin('bv1'), 16), 18));
  assert.equal(only(linkinfo, 4).toString(), 'bridge');
  assert.deepEqual([...only(attrs(only(linkinfo, 5)), 4)], [1]);
});

test('addresses carry family, prefix, index and nodad; IPv6 shorthand expands', () => {
  const v4 = newAddress(5, '172.18.0.2/16');
  assert.deepEqual([v4[0], v4[1], v4[2], v4.readUInt32LE(4)], [2, 16, 0, 5]);
  assert.deepEqual([...only(attrs(v4, 8), 2)], [172, 18, 0, 2]);
  const v6 = newAddress(5, 'fd00:1::2/64', { nodad: true });
  assert.deepEqual([v6[0], v6[1], v6[2]], [10, 64, 0x02]);
  assert.equal(only(attrs(v6, 8), 1).toString('hex'), 'fd000001000000000000000000000002');
  assert.equal(ipBytes('::1').bytes.toString('hex'), '00000000000000000000000000000001');
  assert.equal(ipBytes('fe80::').bytes.toString('hex'), 'fe800000000000000000000000000000');
});

test('a default route is unicast in the main table through the gateway and the link', () => {
  const body = defaultRoute(3, '172.18.0.1');
  assert.deepEqual([body[0], body[1], body[4], body[7]], [2, 0, 254, 1]);
  const list = attrs(body, 12);
  assert.deepEqual([...only(list, 5)], [172, 18, 0, 1]);
  assert.equal(only(list, 4).readUInt32LE(0), 3);
});

test('hostile names and addresses are refused naming them', () => {
  for (const name of ['../x', 'a'.repeat(16), 'eth 0', '']) {
    assert.throws(() => linkByName(name), (err: unknown) => err instanceof BerthError && err.code === 'INVALID_LINK_NAME' && err.message.includes(`"${name}"`));
  }
  assert.throws(() => newAddress(1, '10.0.0.1'), /prefix length/);
  assert.throws(() => newAddress(1, '10.0.0.1/33'), /prefix length/);
  assert.throws(() => defaultRoute(1, 'gateway'), /invalid IP address "gateway"/);
  assert.throws(() => newVeth({ name: 'a', mtu: 1, mac: 'zz', peer: { name: 'b', mtu: 1, netnsFd: 3 } }), /invalid MAC address "zz"/);
});

test('replies: an ack, an error with its errno, and a link with its index', () => {
  const error = (seq: number, errno: number): Buffer => {
    const m = Buffer.alloc(36);
    m.writeUInt32LE(36, 0); m.writeUInt16LE(NLMSG_ERROR, 4); m.writeUInt32LE(seq, 8); m.writeInt32LE(-errno, 16);
    return m;
  };
  const link = Buffer.alloc(32);
  link.writeUInt32LE(32, 0); link.writeUInt16LE(RTM.NEWLINK, 4); link.writeUInt32LE(4, 8); link.writeInt32LE(42, 20);
  assert.deepEqual(parseReplies(Buffer.concat([link, error(4, 0), error(5, 17)])), [
    { type: RTM.NEWLINK, seq: 4, index: 42 }, { type: NLMSG_ERROR, seq: 4, error: 0 }, { type: NLMSG_ERROR, seq: 5, error: -17 },
  ]);
  assert.deepEqual(parseReplies(Buffer.from([1, 2, 3])), []);
});
