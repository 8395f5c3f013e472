// `berth generate systemd` output and the shipped berthd.service/berthd.socket pass
// systemd-analyze verify (binaries replaced by /bin/true: verify wants them to exist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { systemdUnit } from '../../src/cli/commands/generate-systemd.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';

const run = promisify(execFile);
const skip = existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze is not installed';

test('container unit: after and bound to berthd, restart and stop timeout from the container', () => {
  const unit = systemdUnit({ Id: 'f'.repeat(64), Name: '/echo', Config: { StopTimeout: 5 }, HostConfig: { RestartPolicy: { Name: 'unless-stopped' } } },
    '/usr/local/bin/berth', undefined);
  assert.match(unit, /^Requires=berthd\.service$/m);
  assert.match(unit, /^After=berthd\.service/m);
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/berth start --attach echo$/m);
  assert.match(unit, /^ExecStop=\/usr\/local\/bin\/berth stop --time 5 echo$/m);
  assert.match(unit, /^TimeoutStopSec=15$/m);
  const noPolicy = systemdUnit({ Id: 'a', Name: '/x', Config: {}, HostConfig: {} }, '/b', 30);
  assert.match(noPolicy, /^Restart=on-failure$/m);
  assert.match(noPolicy, /^ExecStop=\/b stop --time 30 x$/m);
});

test('units pass systemd-analyze verify', { skip }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-units-'));
  try {
    await writeFile(path.join(dir, 'container-echo.service'), systemdUnit({ Id: 'a', Name: '/echo', Config: { StopTimeout: 3 },
      HostConfig: { RestartPolicy: { Name: 'always' } } }, '/bin/true', undefined));
    const service = await readFile(path.join(REPO_ROOT, 'systemd/berthd.service'), 'utf8');
    await writeFile(path.join(dir, 'berthd.service'), service.replace('/usr/local/bin/berthd', '/bin/true'));
    await copyFile(path.join(REPO_ROOT, 'systemd/berthd.socket'), path.join(dir, 'berthd.socket'));
    const result = await run('systemd-analyze', ['verify', './container-echo.service', './berthd.service', './berthd.socket'], { cwd: dir });
    assert.equal(result.stderr.trim(), '', `verify complained:\n${result.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
