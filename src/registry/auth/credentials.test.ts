import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBerthError } from '../../errors/berth-error.js';
import { DockerCredentialStore, type CredentialHelperRunner } from './credentials.js';

async function withConfig(config: unknown, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-creds-unit-'));
  try {
    if (config !== undefined) await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('auths entries: base64 auth, Docker Hub under its legacy key, scheme-prefixed keys', async () => {
  await withConfig({ auths: {
    'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
    'https://registry.example:5000': { auth: b64('alice:s3cret') },
  } }, async (dir) => {
    const store = new DockerCredentialStore(dir);
    assert.deepEqual(await store.get('docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.deepEqual(await store.get('registry.example:5000'), { username: 'alice', password: 's3cret' });
    assert.equal(await store.get('other.example'), undefined);
  });
});

test('store writes base64 auth with mode 0600 and keeps other fields; erase removes it', async () => {
  await withConfig({ auths: {}, psFormat: 'table' }, async (dir) => {
    const store = new DockerCredentialStore(dir);
    await store.store('localhost:5000', { username: 'bob', password: 'pw' });
    const written = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }>; psFormat: string };
    assert.equal(written.auths['localhost:5000']?.auth, b64('bob:pw'));
    assert.equal(written.psFormat, 'table');
    assert.equal((await stat(path.join(dir, 'config.json'))).mode & 0o777, 0o600);
    assert.equal(await store.erase('localhost:5000'), true);
    assert.equal(await store.get('localhost:5000'), undefined);
    assert.equal(await store.erase('localhost:5000'), false);
  });
});

test('credential helpers: credHelpers per registry over credsStore, identity tokens, not-found replies', async () => {
  const calls: Array<[string, string, string]> = [];
  const runner: CredentialHelperRunner = async (helper, action, input) => {
    calls.push([helper, action, input]);
    if (action === 'get' && input === 'registry.example') return { code: 0, stdout: JSON.stringify({ ServerURL: input, Username: 'carol', Secret: 'pw' }), stderr: '' };
    if (action === 'get' && input === 'tokens.example') return { code: 0, stdout: JSON.stringify({ ServerURL: input, Username: '<token>', Secret: 'refresh' }), stderr: '' };
    if (action === 'get') return { code: 1, stdout: 'credentials not found in native keychain', stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  await withConfig({ credsStore: 'desktop', credHelpers: { 'registry.example': 'pass' } }, async (dir) => {
    const store = new DockerCredentialStore(dir, runner);
    assert.deepEqual(await store.get('registry.example'), { username: 'carol', password: 'pw' });
    assert.deepEqual(calls.at(-1)?.slice(0, 2), ['pass', 'get']);
    assert.deepEqual(await store.get('tokens.example'), { username: '', identityToken: 'refresh' });
    assert.equal(calls.at(-1)?.[0], 'desktop');
    assert.equal(await store.get('nothing.example'), undefined);
    await store.store('registry.example', { username: 'carol', password: 'new' });
    assert.deepEqual(JSON.parse(calls.at(-1)?.[2] ?? '{}'), { ServerURL: 'registry.example', Username: 'carol', Secret: 'new' });
    const written = await readFile(path.join(dir, 'config.json'), 'utf8');
    assert.ok(!written.includes('new'), 'the secret went to the helper, not the file');
  });
});

test('a failing helper and a broken config file give errors without secrets', async () => {
  const runner: CredentialHelperRunner = async () => ({ code: 1, stdout: '', stderr: 'keychain locked' });
  await withConfig({ credsStore: 'desktop' }, async (dir) => {
    await assert.rejects(new DockerCredentialStore(dir, runner).store('r.example', { username: 'u', password: 'TOPSECRET' }), (err) => {
      assert.ok(isBerthError(err));
      assert.match(err.message, /docker-credential-desktop store failed for r\.example: keychain locked/);
      assert.ok(!err.message.includes('TOPSECRET'));
      return true;
    });
  });
  await withConfig(undefined, async (dir) => {
    await writeFile(path.join(dir, 'config.json'), '{ not json');
    await assert.rejects(new DockerCredentialStore(dir).get('x.example'), (err) => isBerthError(err, 'invalid_argument') && err.message.includes('config.json'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { 'x.example': { auth: b64('no-colon') } } }));
    await assert.rejects(new DockerCredentialStore(dir).get('x.example'), (err) => isBerthError(err) && !err.message.includes('no-colon'));
  });
});
