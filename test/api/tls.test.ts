// berthd listening on tcp with --tlsverify, as dockerd does: the real docker CLI with the CA and
// a client certificate gets answers; without a client certificate, or trusting another CA, it is
// refused; a certificate file that cannot be read stops berthd at start with an error naming it,
// before it has made anything.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { requires } from '../support/requirements.js';
import { makePki } from '../support/pki.js';
import { execFile } from '../cli/support/harness.js';
import { cleanupBerthd, findLeaks, removeDir, startBerthd, stopBerthd } from './harness.js';

const skip = requires('root', 'docker') || (existsSync('/usr/bin/openssl') ? false : 'needs openssl');

test('berthd serves the API over tcp with --tlsverify and refuses clients without a certificate of its CA', { skip, timeout: 120_000 }, async () => {
  const pki = await mkdtemp(path.join(os.tmpdir(), 'berth-api-tls-pki-'));
  try {
    await makePki(pki);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const host = `tcp://127.0.0.1:${port}`;
    const pem = (name: string): string => path.join(pki, name);
    const daemon = await startBerthd(undefined, ['-H', host, '--tlsverify', '--tlscacert', pem('ca.pem'), '--tlscert', pem('server.pem'), '--tlskey', pem('server-key.pem')]);
    try {
      const home = path.join(daemon.dir, 'home');
      await mkdir(home);
      const docker = (args: string[]) => execFile('docker', ['-H', host, ...args], { env: { PATH: process.env.PATH, HOME: home } });
      const client = ['--tlscert', pem('client.pem'), '--tlskey', pem('client-key.pem')];
      const ok = await docker(['--tlsverify', '--tlscacert', pem('ca.pem'), ...client, 'version', '--format', '{{.Server.Os}}']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), 'linux');
      const noCert = await docker(['--tlsverify', '--tlscacert', pem('ca.pem'), 'ps']);
      assert.notEqual(noCert.code, 0, 'a client without a certificate must be refused');
      const otherCa = await docker(['--tlsverify', '--tlscacert', pem('other-ca.pem'), ...client, 'ps']);
      assert.notEqual(otherCa.code, 0, 'a client trusting another CA must not accept the server');
      assert.match(otherCa.stderr, /certificate/i);
    } finally {
      await stopBerthd(daemon);
      await cleanupBerthd(daemon);
      assert.deepEqual(await findLeaks(daemon), []);
      await removeDir(daemon);
    }

    const brokenDir = path.join(pki, 'broken');
    await mkdir(brokenDir);
    const broken = await startBerthd({ dir: brokenDir, token: 'tlsbad' }, ['-H', `tcp://127.0.0.1:${port + 1}`, '--tlsverify', '--tlscacert', pem('ca.pem'), '--tlscert', pem('missing.pem'), '--tlskey', pem('server-key.pem')])
      .then(() => 'started', (err: unknown) => String(err));
    assert.match(broken, /--tlscert .*missing\.pem/);
    // the flag mistake stops berthd before it makes its default bridge, firewall table or cgroups
    assert.deepEqual(await findLeaks({ dir: brokenDir, dataRoot: path.join(brokenDir, 'data'), cgroupParent: '/berth-test-tlsbad' }), []);
  } finally {
    await rm(pki, { recursive: true, force: true });
  }
});
