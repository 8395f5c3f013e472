// sys/netlink against the real kernel: a namespace made from berthd's own thread, a veth
// with its peer inside, addresses and routes, the thread back in its own namespace after
// success and after failure, and runProgram started inside a namespace without nsenter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../../src/errors/berth-error.js';
import { runProgram } from '../../src/sys/exec.js';
import { unmountDetached } from '../../src/sys/fs-native.js';
import { createNetns, insideNetns, RouteSocket } from '../../src/sys/netlink.js';
import { requires } from '../support/requirements.js';
import { token } from './support.js';

const ownNetns = (): string => readlinkSync('/proc/thread-self/ns/net');

function inNetns(file: string, ...args: string[]): string {
  return execFileSync('nsenter', [`--net=${file}`, ...args], { encoding: 'utf8' });
}

function hostLinks(tok: string): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(tok));
}

test('a namespace with a veth, addresses and routes, all by netlink; nothing left after', { skip: requires('root') }, async () => {
  const tok = token();
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-netlink-${tok}-`));
  const file = path.join(dir, 'ns');
  const bridge = `bbnl${tok}`;
  const veth = `bvnl${tok}`;
  const before = ownNetns();
  execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
  try {
    await writeFile(file, '');
    const inside = createNetns(file);
    assert.equal(ownNetns(), before, 'the thread is back in its own namespace');
    const host = RouteSocket.open();
    const ns = await open(file, 'r');
    try {
      host.createVeth({ name: veth, mtu: 1400, peer: { name: 'eth0', mtu: 1400, mac: '02:42:ac:1e:00:05', netnsFd: ns.fd } });
      host.setUp(veth, host.linkIndex(bridge));
      host.setHairpin(veth);
      const index = inside.linkIndex('eth0');
      inside.addAddress(index, '172.30.77.5/24');
      inside.addAddress(index, 'fd00:77::5/64', { nodad: true });
      inside.setUp('eth0');
      inside.replaceDefaultRoute(index, '172.30.77.1');
      inside.replaceDefaultRoute(index, 'fd00:77::1');

      const addresses = inNetns(file, 'ip', '-o', 'addr', 'show');
      assert.match(addresses, /\d+: lo\s+inet 127\.0\.0\.1\/8/);
      assert.match(addresses, /eth0\s+inet 172\.30\.77\.5\/24/);
      assert.match(addresses, /eth0\s+inet6 fd00:77::5\/64 scope global nodad/);
      assert.match(inNetns(file, 'ip', 'link', 'show', 'eth0'), /mtu 1400 .*state UP[\s\S]*link\/ether 02:42:ac:1e:00:05/);
      assert.match(inNetns(file, 'ip', '-4', 'route'), /^default via 172\.30\.77\.1 dev eth0/m);
      assert.match(inNetns(file, 'ip', '-6', 'route'), /^default via fd00:77::1 dev eth0/m);
      assert.match(execFileSync('ip', ['-d', 'link', 'show', veth], { encoding: 'utf8' }), new RegExp(`master ${bridge} state UP[\\s\\S]*hairpin on`));

      // a second veth of the same name is refused with the kernel's reason, naming it
      assert.throws(() => host.createVeth({ name: veth, mtu: 1400, peer: { name: 'eth1', mtu: 1400, netnsFd: ns.fd } }),
        (err: unknown) => err instanceof BerthError && err.code === 'EEXIST' && err.message.includes(veth));

      // a program started inside the namespace (no nsenter) sees it
      const listed = await runProgram('ip', ['-o', 'addr', 'show', 'dev', 'eth0'], { netns: file });
      assert.match(listed.stdout, /172\.30\.77\.5/);
      assert.equal(ownNetns(), before);

      assert.equal(await host.deleteLink(veth), true);
      assert.equal(await host.deleteLink(veth), false, 'a link that is gone is reported, not thrown');
    } finally {
      inside.close();
      host.close();
      await ns.close();
      await unmountDetached(file);
    }
    assert.deepEqual(hostLinks(veth), []);
  } finally {
    execFileSync('ip', ['link', 'del', bridge]);
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(hostLinks(tok), [], 'no link of this test is left');
});

test('a file that is no namespace is refused, and the thread stays in its own', { skip: requires('root') }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-netlink-${token()}-`));
  const before = ownNetns();
  try {
    const plain = path.join(dir, 'plain');
    await writeFile(plain, '');
    assert.throws(() => insideNetns(plain, () => 1), (err: unknown) => err instanceof BerthError && err.code === 'EINVAL' && err.message.includes(plain));
    assert.throws(() => RouteSocket.openIn(path.join(dir, 'missing')), /ENOENT/);
    await assert.rejects(runProgram('true', [], { netns: plain }), /EINVAL/);
    assert.equal(ownNetns(), before);
    // work that throws inside still returns the thread
    await writeFile(path.join(dir, 'ns'), '');
    const socket = createNetns(path.join(dir, 'ns'));
    socket.close();
    assert.throws(() => insideNetns(path.join(dir, 'ns'), () => { throw new Error('inside'); }), /inside/);
    assert.equal(ownNetns(), before);
    await unmountDetached(path.join(dir, 'ns'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
