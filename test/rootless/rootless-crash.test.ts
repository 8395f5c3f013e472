// A rootless berthd killed -9: its pasta runs outside the daemon's namespaces and outlives it
// (the rootless netns and every mount vanish with the daemon's mount namespace). The next
// start stops that pasta (its pid file names it) and makes a new rootless netns; a clean stop
// then leaves no process, mount or namespace file of the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { rootlessSkipReason, createTestUser, openTunDevice, processesLeftOf, mountsUnder, startRootlessBerthd, type RootlessDaemon } from './support.js';

const run = promisify(execFile);

test('rootless berthd killed -9: the next start stops the old pasta, a clean stop leaves nothing', { skip: rootlessSkipReason('docker', 'overlay'), timeout: 90_000 }, async () => {
  const user = await createTestUser(randomBytes(3).toString('hex'));
  const restoreTun = await openTunDevice();
  let daemon: RootlessDaemon | undefined;
  try {
    daemon = await startRootlessBerthd(user);
    await run('docker', ['network', 'create', 'berth-crash'], { env: daemon.env });
    const stateDir = path.join(user.runtimeDir, 'berth', 'rootless-netns');
    const crashedPasta = Number(await readFile(path.join(stateDir, 'pasta.pid'), 'utf8'));
    // the inner berthd is the outer one's node child (the outer only relays signals)
    const inner = (await run('pgrep', ['-P', String(daemon.process.pid), '-x', 'node'])).stdout.trim();
    assert.match(inner, /^\d+$/);
    await run('kill', ['-9', inner]);
    assert.equal(await daemon.stop(), 128 + 9, 'the outer berthd exits with the inner one\'s death');
    daemon = undefined;
    assert.ok(existsSync(`/proc/${crashedPasta}`), 'the crashed daemon\'s pasta still runs');

    daemon = await startRootlessBerthd(user);
    assert.equal(existsSync(`/proc/${crashedPasta}`), false, 'the next start stopped it');
    const pasta = Number(await readFile(path.join(stateDir, 'pasta.pid'), 'utf8'));
    assert.ok(pasta !== crashedPasta && existsSync(`/proc/${pasta}`), 'a new pasta serves the new rootless netns');
    const networks = (await run('docker', ['network', 'ls', '--format', '{{.Name}}'], { env: daemon.env })).stdout;
    assert.match(networks, /^berth-crash$/m, 'the user-defined network is back (its bridge remade in the new namespace)');
    assert.equal(await daemon.stop(), 0);
    daemon = undefined;
    const left = await processesLeftOf(user.uid);
    assert.deepEqual(left, [], 'no process of the user is left');
    assert.equal(existsSync(path.join(stateDir, 'netns')), false, 'the rootless netns file is removed');
    assert.equal(existsSync(path.join(stateDir, 'pasta.pid')), false);
    const mounts = await mountsUnder(user.dir);
    assert.deepEqual(mounts, [], 'no mount of the daemon reached the host');
  } finally {
    if (daemon) await daemon.stop();
    await restoreTun();
    await rm(path.join(user.home, '.local'), { recursive: true, force: true }).catch(() => undefined);
    await user.remove();
  }
});
