import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfigFile, parseKeepStorage, resolveConfig } from './config.js';
import { parseFlags } from './flags.js';

test('publish-behind-host-firewall: off by default, on from the flag or daemon.json', async () => {
  assert.equal(resolveConfig({}, {}).publishBehindHostFirewall, false);
  const { config } = parseFlags(['--publish-behind-host-firewall']);
  assert.equal(config['publish-behind-host-firewall'], true);
  assert.equal(resolveConfig(config, {}).publishBehindHostFirewall, true);
  assert.equal(parseFlags([]).config['publish-behind-host-firewall'], undefined);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-config-'));
  try {
    const file = path.join(dir, 'daemon.json');
    await writeFile(file, '{"publish-behind-host-firewall": true}\n');
    assert.equal(resolveConfig({}, await loadConfigFile(file, true)).publishBehindHostFirewall, true);
    await writeFile(file, '{"publish-behind-host-firewall": "yes"}\n');
    await assert.rejects(loadConfigFile(file, true), /publish-behind-host-firewall/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('builder.gc.defaultKeepStorage caps the build cache, in dockerd\'s binary units', () => {
  assert.equal(resolveConfig({}, {}).buildCacheKeepBytes, undefined);
  assert.equal(resolveConfig({}, { builder: { gc: { defaultKeepStorage: '20GB' } } }).buildCacheKeepBytes, 20 * 1024 ** 3);
  assert.equal(parseKeepStorage('512MB'), 512 * 1024 ** 2);
  assert.equal(parseKeepStorage('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseKeepStorage(4096), 4096);
  assert.throws(() => parseKeepStorage('lots'), /invalid builder.gc.defaultKeepStorage "lots"/);
});
