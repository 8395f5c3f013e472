// Registry TLS as docker configures it: a docker-registry serving HTTPS with a CA this test
// makes (openssl), reached through a certs.d directory holding ca.crt, and a second one that
// requires a client certificate (client.cert/client.key). The registries listen on an
// address of a veth pair made for the test, because loopback registries are insecure by
// default (certificates unchecked), as docker treats them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { isBerthError } from '../../src/errors/berth-error.js';
import { RegistryClient } from '../../src/registry/client.js';
import { pullImage } from '../../src/daemon/images/pull.js';
import { pushImage } from '../../src/daemon/images/push.js';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { formatReference, parseNormalizedReference } from '../../src/oci/reference.js';
import { processGone, startRegistry, type RunningRegistry } from './support/registry-server.js';
import { buildImage, NameTable, type BuiltImage } from './support/image-fixtures.js';

const skip = requires('root', 'registry');
const token = Math.random().toString(36).slice(2, 8);
const link = `berth-t${token}`;
const peer = `berth-u${token}`;
const address = `198.18.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for `ip` signed by it, and a client certificate from a second CA. */
function makeCertificates(dir: string, ip: string): void {
  const days = ['-days', '2'];
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/CN=berth test CA ${token}`, ...days], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${ip}`], dir);
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:${ip}\\n' > server.ext`], { cwd: dir });
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-extfile', 'server.ext', ...days], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client-ca.key', '-out', 'client-ca.crt', '-subj', `/CN=berth client CA ${token}`, ...days], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=berth client ${token}`], dir);
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'client-ca.crt', '-CAkey', 'client-ca.key', '-CAcreateserial', '-out', 'client.cert', ...days], dir);
}

describe('registry TLS: certs.d CA, client certificates, insecure registries', { skip }, () => {
  let work: string;
  let pki: string;
  let plain: RegistryTarget;
  let mutual: RegistryTarget;
  let source: FileContentStore;
  let image: BuiltImage;

  interface RegistryTarget { registry: RunningRegistry; certsDir: string }

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), `berth-tls-${token}-`));
    pki = path.join(work, 'pki');
    await mkdir(pki);
    execFileSync('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', peer]);
    execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', link]);
    execFileSync('ip', ['link', 'set', link, 'up']);
    execFileSync('ip', ['link', 'set', peer, 'up']);
    makeCertificates(pki, address);
    const tls = { certificate: path.join(pki, 'server.crt'), key: path.join(pki, 'server.key') };
    plain = { registry: await startRegistry({ kind: 'none' }, { address, tls }), certsDir: path.join(work, 'certs-plain') };
    mutual = {
      registry: await startRegistry({ kind: 'none' }, { address, tls: { ...tls, clientCas: [path.join(pki, 'client-ca.crt')] } }),
      certsDir: path.join(work, 'certs-mutual'),
    };
    source = new FileContentStore(path.join(work, 'source'));
    image = await buildImage(source, [{ files: { 'etc/berth-tls': `tls ${token}\n` } }]);
  });

  after(async () => {
    const pids = [plain?.registry.pid, mutual?.registry.pid];
    await plain?.registry.stop();
    await mutual?.registry.stop();
    execFileSync('ip', ['link', 'del', link], { stdio: 'ignore' });
    await rm(work, { recursive: true, force: true });
    assert.ok(pids.every(processGone), 'registries stopped');
    assert.ok(!execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(link), 'veth pair removed');
  });

  /** certs.d/<host:port>/ with the given files copied from the test PKI. */
  async function certsFor(target: RegistryTarget, files: Record<string, string>): Promise<string> {
    const hostDir = path.join(target.certsDir, target.registry.host);
    await rm(target.certsDir, { recursive: true, force: true });
    await mkdir(hostDir, { recursive: true });
    for (const [name, from] of Object.entries(files)) await copyFile(path.join(pki, from), path.join(hostDir, name));
    return target.certsDir;
  }

  async function roundTrip(client: RegistryClient, host: string, repo: string): Promise<void> {
    const name = `${host}/berth/${token}/${repo}:v1`;
    const names = new NameTable();
    names.names.set(formatReference(parseNormalizedReference(name)), image.manifest);
    await pushImage(client, names.pushStore(source), name);
    const pulled = await pullImage(client, new NameTable().pullStore(new FileContentStore(path.join(work, `pulled-${repo}`))), name);
    assert.equal(pulled.manifestDescriptor.digest, image.manifest.digest);
  }

  test('an unknown CA is refused with a hint, a certs.d ca.crt makes push and pull work', async () => {
    const empty = await certsFor(plain, {});
    const untrusting = new RegistryClient({ certDirs: [empty] });
    try {
      await assert.rejects(untrusting.repository(plain.registry.host, 'berth/x').ping(), (err: unknown) =>
        isBerthError(err, 'unavailable') && err.message.includes(plain.registry.host) && /certificate|insecure/i.test(`${err.message} ${err.hint ?? ''}`));
    } finally {
      untrusting.close();
    }
    const client = new RegistryClient({ certDirs: [await certsFor(plain, { 'ca.crt': 'ca.crt' })] });
    try {
      await roundTrip(client, plain.registry.host, 'with-ca');
    } finally {
      client.close();
    }
  });

  test('an insecure registry is reached over HTTPS without checking its certificate', async () => {
    const client = new RegistryClient({ certDirs: [await certsFor(plain, {})], insecureRegistries: [plain.registry.host] });
    try {
      await roundTrip(client, plain.registry.host, 'insecure');
    } finally {
      client.close();
    }
  });

  test('a registry that requires a client certificate gets client.cert and client.key', async () => {
    const withoutCert = new RegistryClient({ certDirs: [await certsFor(mutual, { 'ca.crt': 'ca.crt' })] });
    try {
      await assert.rejects(withoutCert.repository(mutual.registry.host, 'berth/x').getManifest('v1'),
        (err: unknown) => isBerthError(err, 'unavailable') && err.message.includes(mutual.registry.host));
    } finally {
      withoutCert.close();
    }
    const client = new RegistryClient({
      certDirs: [await certsFor(mutual, { 'ca.crt': 'ca.crt', 'client.cert': 'client.cert', 'client.key': 'client.key' })],
    });
    try {
      await roundTrip(client, mutual.registry.host, 'mutual');
    } finally {
      client.close();
    }
  });

  test('a client certificate without its key is a configuration error naming the file', async () => {
    const dir = await certsFor(mutual, { 'ca.crt': 'ca.crt', 'client.cert': 'client.cert' });
    const client = new RegistryClient({ certDirs: [dir] });
    try {
      await assert.rejects(client.repository(mutual.registry.host, 'berth/x').ping(), (err: unknown) =>
        isBerthError(err, 'invalid_argument') && err.code === 'REGISTRY_TLS_CONFIG' && err.message.includes('client.key')
        && err.message.includes(path.join(dir, mutual.registry.host, 'client.cert')));
    } finally {
      client.close();
    }
    await writeFile(path.join(work, 'done'), '');
  });
});
