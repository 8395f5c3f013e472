import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { EmbeddedDns } from './dns-server.js';

const zone = {
  lookup: (name: string) => (name === 'web' ? { a: ['172.18.0.2'], aaaa: [] } : undefined),
  reverse: (ip: string) => (ip === '172.18.0.2' ? 'web.front' : undefined),
};

function query(name: string, type: 'A' | 'AAAA' | 'PTR'): Buffer {
  return dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
}

test('answers names of the zone, NODATA for missing types, PTR for addresses', async () => {
  const dns = new EmbeddedDns([]);
  const a = dnsPacket.decode((await dns.answer(query('WEB.', 'A'), zone)) ?? Buffer.alloc(0));
  assert.equal(a.id, 7);
  assert.deepEqual(a.answers?.map((r) => (r.type === 'A' ? r.data : '')), ['172.18.0.2']);
  const aaaa = dnsPacket.decode((await dns.answer(query('web', 'AAAA'), zone)) ?? Buffer.alloc(0));
  assert.equal((aaaa.flags ?? -1) & 15, 0, 'NOERROR');
  assert.deepEqual(aaaa.answers, []);
  const ptr = dnsPacket.decode((await dns.answer(query('2.0.18.172.in-addr.arpa', 'PTR'), zone)) ?? Buffer.alloc(0));
  assert.deepEqual(ptr.answers?.map((r) => (r.type === 'PTR' ? r.data : '')), ['web.front']);
  assert.equal(await dns.answer(Buffer.from('garbage'), zone), undefined);
  const fail = dnsPacket.decode((await dns.answer(query('elsewhere.test', 'A'), zone)) ?? Buffer.alloc(0));
  assert.equal((fail.flags ?? 0) & 15, 2, 'SERVFAIL');
});

test('forwards unknown names to the upstream resolver and relays its reply', async () => {
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const reply = dnsPacket.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name: 'elsewhere.test', data: '192.0.2.9' }] });
    upstream.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  try {
    const dns = new EmbeddedDns([`127.0.0.1#${upstream.address().port}`]);
    const listener = await dns.listen('127.0.0.1', zone);
    const client = dgram.createSocket('udp4');
    const reply = await new Promise<Buffer>((resolve) => {
      client.on('message', (m) => resolve(m));
      client.send(query('elsewhere.test', 'A'), listener.udpPort, '127.0.0.1');
    });
    client.close();
    await listener.close();
    const decoded = dnsPacket.decode(reply);
    assert.deepEqual(decoded.answers?.map((r) => (r.type === 'A' ? r.data : '')), ['192.0.2.9']);
  } finally {
    upstream.close();
  }
});

test('answers over TCP with length-prefixed messages', async () => {
  const dns = new EmbeddedDns([]);
  const listener = await dns.listen('127.0.0.1', zone);
  try {
    const message = query('web', 'A');
    const framed = Buffer.alloc(2 + message.length);
    framed.writeUInt16BE(message.length, 0);
    message.copy(framed, 2);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(listener.tcpPort, '127.0.0.1', () => socket.write(framed));
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        if (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) { socket.destroy(); resolve(buffer.subarray(2)); }
      });
      socket.on('error', reject);
    });
    assert.deepEqual(dnsPacket.decode(reply).answers?.map((r) => (r.type === 'A' ? r.data : '')), ['172.18.0.2']);
  } finally {
    await listener.close();
  }
});

test('a container with its own --dns servers is forwarded there; names are looked up for the asker', async () => {
  const answering = (address: string) => {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      socket.send(dnsPacket.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name: 'x.test', data: address }] }), rinfo.port, rinfo.address);
    });
    return socket;
  };
  const host = answering('192.0.2.1');
  const own = answering('192.0.2.2');
  await Promise.all([host, own].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  const seen: Array<string | undefined> = [];
  const scoped = {
    ...zone,
    lookup: (name: string, client?: string) => { seen.push(client); return zone.lookup(name); },
    upstreams: (client: string) => (client === '172.18.0.9' ? [`127.0.0.1#${own.address().port}`] : undefined),
  };
  try {
    const dns = new EmbeddedDns([`127.0.0.1#${host.address().port}`]);
    const first = (reply: Buffer | undefined) => dnsPacket.decode(reply ?? Buffer.alloc(0)).answers?.map((r) => (r.type === 'A' ? r.data : ''));
    assert.deepEqual(first(await dns.answer(query('x.test', 'A'), scoped, '172.18.0.9')), ['192.0.2.2']);
    assert.deepEqual(first(await dns.answer(query('x.test', 'A'), scoped, '172.18.0.3')), ['192.0.2.1']);
    assert.deepEqual(seen, ['172.18.0.9', '172.18.0.3']);
  } finally {
    host.close();
    own.close();
  }
});
