// sys/nftables against the real kernel: scripts through libnftables in berthd's namespace and
// inside a container's, with nft's own error messages; nothing of the test is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../../src/errors/berth-error.js';
import { unmountDetached } from '../../src/sys/fs-native.js';
import { createNetns } from '../../src/sys/netlink.js';
import { NftablesContext, nftablesLibraryAvailable, runNftablesInside } from '../../src/sys/nftables.js';
import { requires } from '../support/requirements.js';
import { token } from './support.js';

const skip = requires('root') || (nftablesLibraryAvailable() ? false : 'libnftables.so.1 is not installed');

function tables(netns?: string): string {
  const argv = ['nft', 'list', 'tables'];
  return netns ? execFileSync('nsenter', [`--net=${netns}`, ...argv], { encoding: 'utf8' }) : execFileSync(argv[0] ?? 'nft', argv.slice(1), { encoding: 'utf8' });
}

test('a table is defined, replaced and deleted through libnftables; a bad script fails with nft\'s reason', { skip }, async () => {
  const table = `berth-nftt-${token()}`;
  const nft = new NftablesContext();
  try {
    const define = (port: number): string => `table inet ${table} {}\ndelete table inet ${table}\ntable inet ${table} {\n`
      + `  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    tcp dport ${port} dnat ip to 10.99.0.2:80\n  }\n}\n`;
    await Promise.all([nft.run(define(8080)), nft.run(define(8081))]); // one at a time, in order
    const listed = execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' });
    assert.match(listed, /tcp dport 8081 dnat ip to 10\.99\.0\.2:80/);
    assert.doesNotMatch(listed, /8080/);
    await assert.rejects(nft.run(`table inet ${table} {\n  chain c { tcp dport nonsense-port accept; }\n}\n`),
      (err: unknown) => err instanceof BerthError && err.code === 'NFT_FAILED' && /Error: .*(nonsense-port|resolve service)/.test(err.message));
    assert.match(execFileSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' }), /8081/, 'a failed script changes nothing');
    await nft.run(`table inet ${table} {}\ndelete table inet ${table}\n`);
    assert.doesNotMatch(tables(), new RegExp(table));
  } finally {
    execFileSync('sh', ['-c', `nft delete table inet ${table} 2>/dev/null; true`]);
  }
});

test('a script run inside a container\'s namespace changes only that namespace', { skip }, async () => {
  const tok = token();
  const dir = await mkdtemp(path.join(os.tmpdir(), `berth-nftt-${tok}-`));
  const file = path.join(dir, 'ns');
  try {
    await writeFile(file, '');
    createNetns(file).close();
    runNftablesInside(file, `table ip berth-nftt-${tok} {\n  chain output {\n    type nat hook output priority -100; policy accept;\n  }\n}\n`);
    assert.match(tables(file), new RegExp(`table ip berth-nftt-${tok}`));
    assert.doesNotMatch(tables(), new RegExp(`berth-nftt-${tok}`));
    assert.throws(() => runNftablesInside(file, 'delete table ip no-such-berth-table\n'), /no-such-berth-table|No such file/);
  } finally {
    await unmountDetached(file);
    await rm(dir, { recursive: true, force: true });
  }
});
