// berth against a daemon that listens on tcp with --tlsverify (a private dockerd; berthd's own
// TLS listener is tested in test/api/tls.test.ts): the CLI's TLS flags and
// DOCKER_CERT_PATH / DOCKER_TLS_VERIFY, and the CA that only NODE_EXTRA_CA_CERTS names.
// bin/berth unsets NODE_EXTRA_CA_CERTS for a fast start and passes it on as
// BERTH_EXTRA_CA_CERTS: this proves the TLS transport still trusts it (and nothing else).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../support/busybox-rootfs.js';
import { requires } from '../support/requirements.js';
import { makePki } from '../support/pki.js';
import { execFile, type Result } from './support/harness.js';

const skip = requires('root', 'docker') || (existsSync('/usr/sbin/dockerd') || existsSync('/usr/bin/dockerd') ? false : 'needs dockerd') || (existsSync('/usr/bin/openssl') ? false : 'needs openssl');

describe('berth over tcp with TLS', { skip }, () => {
  const token = randomBytes(4).toString('hex');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const host = `tcp://127.0.0.1:${port}`;
  let dir = '';
  let pki = '';
  let daemon: ChildProcess | undefined;
  let log = '';

  /** bin/berth as a user runs it, with only the environment given (plus PATH) */
  const berth = async (args: string[], env: NodeJS.ProcessEnv): Promise<Result> => {
    return await execFile(path.join(REPO_ROOT, 'bin/berth'), args, { env: { PATH: process.env.PATH, HOME: path.join(dir, 'home'), ...env } });
  };
  const clientCert = (): string[] => ['--tlscert', path.join(pki, 'client.pem'), '--tlskey', path.join(pki, 'client-key.pem')];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `berth-cli-tls-${token}-`));
    pki = path.join(dir, 'pki');
    await mkdir(pki);
    await mkdir(path.join(dir, 'home'));
    await makePki(pki);
    daemon = spawn('dockerd', ['--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'dockerd.pid'),
      '--bridge=none', '--iptables=false', '--storage-driver', 'vfs', '-H', host,
      '--tlsverify', '--tlscacert', path.join(pki, 'ca.pem'), '--tlscert', path.join(pki, 'server.pem'), '--tlskey', path.join(pki, 'server-key.pem')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.stderr?.on('data', (c: Buffer) => { log += c.toString(); });
    for (let i = 0; i < 120; i++) {
      if (daemon.exitCode !== null) throw new Error(`dockerd exited at startup:\n${log.slice(-2000)}`);
      const probe = await berth(['--tlsverify', '--tlscacert', path.join(pki, 'ca.pem'), ...clientCert(), '-H', host, 'version', '--format', '{{.Server.ApiVersion}}'], {});
      if (probe.code === 0) return;
      await sleep(250);
    }
    throw new Error(`dockerd did not answer on ${host}:\n${log.slice(-2000)}`);
  });

  after(async () => {
    if (daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((resolve) => daemon?.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(dir), 'no mount of the test daemon is left');
    await rm(dir, { recursive: true, force: true });
  });

  test('the CA named only by NODE_EXTRA_CA_CERTS still verifies the daemon through bin/berth', async () => {
    const ok = await berth(['--tlsverify', ...clientCert(), '-H', host, 'ps', '--format', '{{.ID}}'], { NODE_EXTRA_CA_CERTS: path.join(pki, 'ca.pem') });
    assert.equal(ok.code, 0, ok.stderr);
    const version = await berth(['--tlsverify', ...clientCert(), '-H', host, 'version', '--format', '{{.Server.ApiVersion}}'], { NODE_EXTRA_CA_CERTS: path.join(pki, 'ca.pem') });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^1\.\d+\n$/);
  });

  test('without that CA the daemon is not trusted, and a CA file means only that CA', async () => {
    const untrusted = await berth(['--tlsverify', ...clientCert(), '-H', host, 'ps'], {});
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate/i);
    const otherCa = await berth(['--tlsverify', '--tlscacert', path.join(pki, 'other-ca.pem'), ...clientCert(), '-H', host, 'ps'], { NODE_EXTRA_CA_CERTS: path.join(pki, 'ca.pem') });
    assert.notEqual(otherCa.code, 0);
    assert.match(otherCa.stderr, /certificate/i);
  });

  test('DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) as with docker; no client certificate is refused', async () => {
    const certs = path.join(dir, 'certs');
    await mkdir(certs, { recursive: true });
    await copyFile(path.join(pki, 'ca.pem'), path.join(certs, 'ca.pem'));
    await copyFile(path.join(pki, 'client.pem'), path.join(certs, 'cert.pem'));
    await copyFile(path.join(pki, 'client-key.pem'), path.join(certs, 'key.pem'));
    const viaEnv = await berth(['ps', '-a', '--format', '{{.Names}}'], { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const noClientCert = await berth(['--tlsverify', '--tlscacert', path.join(pki, 'ca.pem'), '-H', host, 'ps'], {});
    assert.notEqual(noClientCert.code, 0);
    const plain = await berth(['-H', host, 'ps'], {});
    assert.notEqual(plain.code, 0, 'plain http to a TLS port fails');
  });
});
