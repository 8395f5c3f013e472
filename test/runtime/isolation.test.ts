// What a process sees from inside: mount table and masked paths, capability sets, seccomp,
// uid/gid and user-namespace mappings, read-only root, bind mounts. Each bundle also runs
// under runc (when installed) and must give the same probe output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken, type Bundle } from './bundle.js';
import { makeTestRuntime, type RunOutput } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });
const withRunc = requires('runc') === false;

/** run under berth, then runc; the outputs must agree */
async function runBoth(name: string, bundle: Bundle): Promise<RunOutput> {
  const rt = await rtPromise;
  const id = `berth-${name}-${token}`;
  const ours = await rt.run(id, bundle);
  rt.assertNoLeaks(id);
  if (withRunc) {
    const theirs = rt.runWithRunc(`${id}-runc`, bundle);
    assert.equal(ours.stdout, theirs.stdout, `berth and runc disagree on ${name}\nrunc stderr: ${theirs.stderr}`);
    assert.equal(ours.exitCode, theirs.exitCode);
  }
  await bundle.remove();
  return ours;
}

test('mount table, masked and read-only paths', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/sh', '-c',
    'cut -d" " -f2,3 /proc/mounts; probe cat /proc/keys | wc -c; ls /sys/firmware | wc -l; probe write /proc/sys/kernel/hostname']);
  const out = await runBoth('mounts', bundle);
  const lines = out.stdout.trim().split('\n');
  for (const entry of ['/ ', '/proc proc', '/dev tmpfs', '/dev/pts devpts', '/dev/shm tmpfs', '/dev/mqueue mqueue', '/sys sysfs']) {
    assert.ok(lines.some((l) => l.startsWith(entry)), `missing mount ${entry} in\n${out.stdout}`);
  }
  assert.ok(lines.some((l) => l.startsWith('/proc/keys ')), `/proc/keys masked in\n${out.stdout}`);
  assert.equal(lines[lines.length - 3], '0', 'masked /proc/keys reads empty');
  assert.equal(lines[lines.length - 2], '0', 'masked /sys/firmware is empty');
  assert.match(lines[lines.length - 1] ?? '', /^errno 30 /, '/proc/sys is read-only (EROFS)');
});

test('capability sets are exactly the configured ones', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'grep ^Cap /proc/self/status'], (s) => {
    s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN', 'CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
  });
  const out = await runBoth('caps', bundle);
  // sh runs grep: ambient CAP_KILL (bit 5) becomes permitted+effective across execve
  assert.match(out.stdout, /CapInh:\t0000000000000020/);
  assert.match(out.stdout, /CapBnd:\t0000000000002021/);
  assert.match(out.stdout, /CapAmb:\t0000000000000020/);
});

test('seccomp denies a listed syscall with the configured errno', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe mkdir /tmp/x; probe write /tmp/y'], (s) => {
    s.root!.readonly = false;
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    };
  });
  const out = await runBoth('seccomp', bundle);
  assert.deepEqual(out.stdout.trim().split('\n'), ['errno 13 Permission denied', 'ok']);
});

test('uid, gid and additional groups; umask', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe id; umask'], (s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534], umask: 0o027 };
  });
  const out = await runBoth('ids', bundle);
  assert.deepEqual(out.stdout.trim().split('\n'), ['uid=1000 gid=1000 groups=5,65534', '0027']);
});

test('a user namespace maps container root to the configured host ids', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe id; cat /proc/self/uid_map /proc/self/gid_map; probe write /tmp/owned; stat -c %u /tmp/owned'], (s) => {
    s.root!.readonly = false;
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    s.mounts = s.mounts!.filter((m) => m.destination !== '/sys');
  });
  await chownTree(path.join(bundle.dir, 'rootfs'), 200000);
  await chmod(bundle.dir, 0o755); // the namespace's root must be able to reach its rootfs
  const out = await runBoth('userns', bundle);
  const lines = out.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
  assert.deepEqual(lines, ['uid=0 gid=0 groups=', '0 200000 65536', '0 200000 65536', 'ok', '0']);
});

async function chownTree(dir: string, id: number): Promise<void> {
  const { readdir, lchown } = await import('node:fs/promises');
  await lchown(dir, id, id);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, id);
    else await lchown(p, id, id);
  }
}

test('read-only root; bind mounts (rw and ro) show the host directory', { skip: requires('root') }, async () => {
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe write /newfile; cat /data/hello; probe write /data/new; probe write /ro/new'], (s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'rw'] });
    s.mounts!.push({ destination: '/ro', type: 'bind', source: 'data', options: ['bind', 'ro', 'nosuid'] });
  });
  await mkdir(path.join(bundle.dir, 'data'));
  await writeFile(path.join(bundle.dir, 'data/hello'), 'hello from the host\n');
  await chown(path.join(bundle.dir, 'data'), 0, 0);
  const out = await runBoth('binds', bundle);
  assert.deepEqual(out.stdout.trim().split('\n'), ['errno 30 Read-only file system', 'hello from the host', 'ok', 'errno 30 Read-only file system']);
});
