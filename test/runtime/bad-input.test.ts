// Hostile or broken bundles: each is a clear error naming the field or path, berth-runtime
// exits 1, and nothing is left behind (state dir, cgroup, mounts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';
import { makeBundle, removeTemplate, uniqueToken, type Bundle } from './bundle.js';
import { makeTestRuntime } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });
const cli = path.join(REPO_ROOT, 'bin/berth-runtime');

async function expectRejected(name: string, bundle: Bundle, message: RegExp): Promise<void> {
  const rt = await rtPromise;
  const id = `berth-bad-${name}-${token}`;
  await assert.rejects(rt.runtime.create(id, bundle.dir), message);
  rt.assertNoLeaks(id);
  const root = path.join(rt.root, 'cli');
  const result = spawnSync(cli, ['--root', root, 'run', '--bundle', bundle.dir, id], { encoding: 'utf8' });
  assert.equal(result.status, 1, `berth-runtime run should exit 1: ${result.stderr}`);
  assert.match(result.stderr, message);
  // state dirs only: berth-runtime's resident server keeps its socket, pid and log files in the root
  const stateDirs = existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
  assert.deepEqual(stateDirs, [], 'no state dir is left');
  rt.assertNoLeaks(id);
}

test('malformed config.json: not JSON, wrong types, unsupported version', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/true']);
  await writeFile(path.join(bundle.dir, 'config.json'), '{"ociVersion": "1.0.2", ');
  await expectRejected('json', bundle, /config\.json is not valid JSON/);
  bundle.spec.process!.user = { uid: -1, gid: 0 };
  await bundle.write();
  await expectRejected('type', bundle, /process\.user\.uid/);
  bundle.spec.process!.user = { uid: 0, gid: 0 };
  bundle.spec.ociVersion = '0.9.0';
  await bundle.write();
  await expectRejected('version', bundle, /ociVersion/);
  await bundle.remove();
});

test('a missing rootfs is named', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/true']);
  await rm(path.join(bundle.dir, 'rootfs'), { recursive: true });
  await expectRejected('rootfs', bundle, /root\.path: rootfs .*rootfs does not exist/);
  await bundle.remove();
});

test('an unknown capability or syscall name is named with its field', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/true'], (s) => { s.process!.capabilities!.bounding = ['CAP_KILL', 'CAP_FLY']; });
  await expectRejected('cap', bundle, /process\.capabilities\.bounding\[1\]: unknown capability "CAP_FLY"/);
  bundle.spec.process!.capabilities!.bounding = ['CAP_KILL'];
  bundle.spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid', 'no_such_syscall'], action: 'SCMP_ACT_ERRNO' }] };
  await bundle.write();
  await expectRejected('syscall', bundle, /linux\.seccomp\.syscalls\[0\]\.names\[1\]: unknown syscall "no_such_syscall"/);
  await bundle.remove();
});

test('a mount target escaping the rootfs through a symlink is refused', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/true'], (s) => {
    s.mounts!.push({ destination: '/evil/inside', type: 'tmpfs', source: 'tmpfs' });
  });
  const outside = path.join(bundle.dir, 'outside');
  await mkdir(outside);
  await symlink('../../outside', path.join(bundle.dir, 'rootfs/evil'));
  await expectRejected('escape', bundle, /mounts\[6\]\.destination \/evil\/inside escapes the rootfs through the symlink \/evil -> \.\.\/\.\.\/outside/);
  assert.deepEqual(readdirSync(outside), [], 'nothing was created outside the rootfs');
  await bundle.remove();
});

test('a failure inside the helper names the step and path, and cleans up', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/true'], (s) => {
    s.mounts!.push({ destination: '/bogus', type: 'nosuchfs', source: 'none' });
  });
  await expectRejected('helper', bundle, /container setup failed at mount \/bogus: ENODEV/);
  await bundle.remove();
});

// cgroupfs answers the open of a control file it lacks with EACCES (the open asks to create it)
const BLKIO_V1 = '/sys/fs/cgroup/blkio';
const noLeafWeight = existsSync(path.join(BLKIO_V1, 'blkio.weight')) || existsSync(path.join(BLKIO_V1, 'blkio.leaf_weight'))
  || !existsSync(path.join(BLKIO_V1, 'cgroup.procs')) ? 'needs a cgroup v1 blkio hierarchy without weight files (no CFQ/BFQ weights)' : false;

test('a cgroup setting the kernel does not offer is named as missing (ENOENT), not EACCES', { skip: requires('root') || noLeafWeight }, async () => {
  const bundle = await makeBundle(token, ['/bin/true'], (s) => { s.linux!.resources = { blockIO: { leafWeight: 300 } }; });
  await expectRejected('leafweight', bundle, /cannot write '300' to \S*blkio\.leaf_weight: ENOENT/);
  await bundle.remove();
});
