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
import { quadletFile, runArguments, systemdNewUnit, systemdUnit, systemdWord, type InspectedContainer } from '../../src/cli/commands/generate-systemd.js';
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

const WEB: InspectedContainer = {
  Id: 'e'.repeat(64), Name: '/web',
  Config: { Image: 'busybox:latest', Cmd: ['sh', '-c', 'echo "hi $HOME" 100%; sleep 1000'], Entrypoint: null, StopTimeout: 4, StopSignal: 'SIGINT',
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello world'], Labels: { tier: 'front' }, WorkingDir: '/srv' },
  HostConfig: { RestartPolicy: { Name: 'always' }, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] },
    Binds: ['data:/data:ro'], NetworkMode: 'bridge' },
};

test('--new: run arguments rebuilt from inspect, stale container removed first, removed after stop', () => {
  assert.deepEqual(runArguments(WEB), ['--name', 'web', '-p', '8080:80', '-p', '127.0.0.1:5353:53/udp', '-v', 'data:/data:ro',
    '-e', 'GREETING=hello world', '--label', 'tier=front', '--workdir', '/srv', '--stop-signal', 'SIGINT', '--stop-timeout', '4',
    'busybox:latest', 'sh', '-c', 'echo "hi $HOME" 100%; sleep 1000']);
  const unit = systemdNewUnit(WEB, '/usr/local/bin/berth', undefined);
  assert.match(unit, /^ExecStartPre=-\/usr\/local\/bin\/berth rm --force web$/m);
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/berth run --rm --name web -p 8080:80 .* "GREETING=hello world" .* busybox:latest sh -c "echo \\"hi \$\$HOME\\" 100%%; sleep 1000"$/m);
  assert.match(unit, /^ExecStop=\/usr\/local\/bin\/berth stop --time 4 web$/m);
  assert.match(unit, /^ExecStopPost=-\/usr\/local\/bin\/berth rm --force web$/m);
  assert.equal(systemdWord('plain-word_1.2'), 'plain-word_1.2');
  assert.equal(systemdWord(''), '""');
});

test('--format quadlet: a Podman-Quadlet-style .container file of the same container', () => {
  const file = quadletFile(WEB, undefined);
  for (const line of ['[Container]', 'ContainerName=web', 'Image=busybox:latest', 'PublishPort=8080:80', 'PublishPort=127.0.0.1:5353:53/udp',
    'Volume=data:/data:ro', 'Environment="GREETING=hello world"', 'Label=tier=front', 'WorkingDir=/srv', 'StopSignal=SIGINT',
    'Exec=sh -c "echo \\"hi $$HOME\\" 100%%; sleep 1000"', 'Requires=berthd.service', 'Restart=always', 'TimeoutStopSec=14']) {
    assert.ok(file.split('\n').includes(line), `${line} in\n${file}`);
  }
  assert.ok(!file.includes('PATH='), 'the default PATH is left out');
});

test('units pass systemd-analyze verify', { skip }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-units-'));
  try {
    await writeFile(path.join(dir, 'container-echo.service'), systemdUnit({ Id: 'a', Name: '/echo', Config: { StopTimeout: 3 },
      HostConfig: { RestartPolicy: { Name: 'always' } } }, '/bin/true', undefined));
    const service = await readFile(path.join(REPO_ROOT, 'systemd/berthd.service'), 'utf8');
    await writeFile(path.join(dir, 'berthd.service'), service.replace('/usr/local/bin/berthd', '/bin/true'));
    await copyFile(path.join(REPO_ROOT, 'systemd/berthd.socket'), path.join(dir, 'berthd.socket'));
    await writeFile(path.join(dir, 'container-web.service'), systemdNewUnit(WEB, '/bin/true', undefined));
    const result = await run('systemd-analyze', ['verify', './container-echo.service', './container-web.service', './berthd.service', './berthd.socket'], { cwd: dir });
    assert.equal(result.stderr.trim(), '', `verify complained:\n${result.stderr}`);
    // the Quadlet file's systemd sections are valid too; only its [Container] section is unknown to systemd itself
    // (quadlet's generator turns [Container] into the ExecStart of [Service]; /bin/true stands for it)
    await writeFile(path.join(dir, 'web-quadlet.service'), quadletFile(WEB, undefined).replace('[Container]', '[X-Container]')
      .replace('[Service]', '[Service]\nExecStart=/bin/true'));
    const quadlet = await run('systemd-analyze', ['verify', './web-quadlet.service', './berthd.service', './berthd.socket'], { cwd: dir });
    assert.equal(quadlet.stderr.trim(), '', `verify complained about the quadlet file:\n${quadlet.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
