// scripts/install-systemd into a private root (systemctl --root, nothing started): the
// binaries the units name are linked, the units copied, the socket enabled, and the socket
// listens where the CLI looks by default.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..').replace(/\/dist$/, '');
const skip = existsSync('/usr/bin/systemctl') ? false : 'systemctl is not installed';

test('install-systemd links the binaries, installs the units and enables berthd.socket', { skip }, async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-install-systemd-'));
  try {
    await run(path.join(repo, 'scripts/install-systemd'), ['--root', root]);
    assert.equal(await readlink(path.join(root, 'usr/local/bin/berthd')), path.join(repo, 'bin/berthd'));
    assert.equal(await readlink(path.join(root, 'usr/local/bin/berth')), path.join(repo, 'bin/berth'));
    const service = await readFile(path.join(root, 'etc/systemd/system/berthd.service'), 'utf8');
    assert.match(service, /^ExecStart=\/usr\/local\/bin\/berthd -H fd:\/\/$/m);
    const socket = await readFile(path.join(root, 'etc/systemd/system/berthd.socket'), 'utf8');
    assert.match(socket, /^ListenStream=\/run\/berth\/berth\.sock$/m, 'the socket is where berth connects by default');
    const wanted = await readlink(path.join(root, 'etc/systemd/system/sockets.target.wants/berthd.socket'));
    assert.equal(wanted, '/etc/systemd/system/berthd.socket');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
