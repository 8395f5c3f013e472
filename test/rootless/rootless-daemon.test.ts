// Rootless berthd end to end: an ordinary user made by the test starts berthd (no flags but
// the log level: paths come from XDG_RUNTIME_DIR and HOME), and the docker CLI drives it:
// push and pull through a loopback docker-registry, run, exec, logs, a build with a RUN step,
// and the ids the container's processes have on the host. (Networks and published ports:
// rootless-network.test.ts.)
// At the end nothing of the user is left: no process, no mount, no pasta, no user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../support/busybox-rootfs.js';
import { startRegistry } from '../registry/support/registry-server.js';
import { rootlessSkipReason, createTestUser, processesLeftOf, mountsUnder, startRootlessBerthd, type RootlessDaemon } from './support.js';

const run = promisify(execFile);

async function docker(daemon: RootlessDaemon, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await run('docker', args, { env: { ...daemon.env, ...env }, maxBuffer: 16 << 20 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${e.stderr ?? e.message}\n--- berthd log tail ---\n${daemon.log().split('\n').slice(-15).join('\n')}`);
  }
}

async function hostUids(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]) };
}

test('rootless berthd: registry pull, run, exec, logs, build, subordinate ids, and nothing left behind', { skip: rootlessSkipReason('registry', 'docker', 'overlay'), timeout: 90_000 }, async () => {
  const token = randomBytes(3).toString('hex');
  const user = await createTestUser(token);
  const registry = await startRegistry();
  let daemon: RootlessDaemon | undefined;
  try {
    daemon = await startRootlessBerthd(user);
    const info = JSON.parse(await docker(daemon, ['info', '--format', '{{json .}}'])) as { SecurityOptions: string[]; DockerRootDir: string; Warnings: string[] | null; MemoryLimit: boolean };
    assert.ok(info.SecurityOptions.includes('name=rootless'), `info.SecurityOptions: ${info.SecurityOptions.join(', ')}`);
    assert.equal(info.DockerRootDir, path.join(user.home, '.local/share/berth'));
    assert.ok((info.Warnings ?? []).some((w) => /rootless: resource limits are not available/.test(w)), 'the cgroup v1 host: limits are said to be unavailable');
    // /dev/net/tun is left as the machine has it: without access for the user (0600 in this
    // sandbox) berthd still starts, says so, and containers still have berth's networks
    const tunOpen = ((await stat('/dev/net/tun')).mode & 0o006) === 0o006;
    assert.equal((info.Warnings ?? []).some((w) => /containers have no network beyond berth's own networks: pasta needs read-write access to \/dev\/net\/tun/.test(w)), !tunOpen,
      `info.Warnings: ${(info.Warnings ?? []).join(' | ')}`);
    assert.equal(info.MemoryLimit, false);

    // an image into the loopback registry and back: push, remove, pull
    const rootfs = await makeBusyboxRootfs(path.join(user.dir, 'rootfs'), { probe: false });
    await run('tar', ['-C', rootfs, '-cf', path.join(user.dir, 'busybox.tar'), '.']);
    const image = `${registry.host}/rootless-${token}/busybox:1`;
    await docker(daemon, ['import', path.join(user.dir, 'busybox.tar'), image]);
    await docker(daemon, ['push', image]);
    await docker(daemon, ['rmi', image]);
    await docker(daemon, ['pull', image]);

    // run as root in the container: the user on the host; another uid: the subordinate range
    assert.equal(await docker(daemon, ['run', '--rm', '--network', 'none', image, 'id', '-u']), '0');
    const limited = await run('docker', ['run', '--rm', '--network', 'none', '--memory', '64m', image, 'true'], { env: daemon.env });
    assert.match(limited.stderr, /cannot apply Memory/, 'a limit that cannot be applied is a warning, not silence');
    const server = await docker(daemon, ['run', '-d', '--name', `web-${token}`, image,
      'sh', '-c', 'echo started-$(hostname); exec nc -ll -p 80 -e netstat -tn']);
    const other = await docker(daemon, ['run', '-d', '--user', '1234:1234', '--network', 'none', image, 'sleep', '60']);
    const serverPid = Number(await docker(daemon, ['inspect', '--format', '{{.State.Pid}}', server]));
    const otherPid = Number(await docker(daemon, ['inspect', '--format', '{{.State.Pid}}', other]));
    assert.deepEqual(await hostUids(serverPid), { uid: user.uid, gid: user.gid }, 'container root is the user');
    assert.deepEqual(await hostUids(otherPid), { uid: user.subidStart + 1233, gid: user.subidStart + 1233 }, 'uid 1234 is subordinate id 1233');

    // exec and logs
    assert.equal(await docker(daemon, ['exec', server, 'id', '-u']), '0');
    assert.equal(await docker(daemon, ['exec', '--user', '1234', server, 'id', '-u']), '1234');
    assert.match(await docker(daemon, ['logs', server]), /^started-/);
    // no cgroup here: top lists the init's process tree, pause says why it cannot
    assert.match(await docker(daemon, ['top', server]), /nc -ll -p 80/);
    const pause = await run('docker', ['pause', server], { env: daemon.env }).then(() => '', (err: { stderr?: string }) => err.stderr ?? 'failed');
    assert.match(pause, /no cgroup .*rootless without a delegated cgroup v2 subtree/);

    // a build with a RUN step
    const context = path.join(user.dir, 'context');
    await mkdir(context);
    await writeFile(path.join(context, 'Dockerfile'), `FROM ${image}\nRUN echo built-by-$(id -u) > /greeting\nCMD ["cat", "/greeting"]\n`);
    await docker(daemon, ['build', '-q', '-t', `rootless-built-${token}`, context], { DOCKER_BUILDKIT: '0' });
    assert.equal(await docker(daemon, ['run', '--rm', '--network', 'none', `rootless-built-${token}`]), 'built-by-0');

    await docker(daemon, ['rm', '-f', server, other]);
    assert.equal(await daemon.stop(), 0, 'the outer berthd exits with the inner one\'s status');
    daemon = undefined;
    const left = await processesLeftOf(user.uid);
    assert.deepEqual(left, [], 'no process of the user is left (daemon, containers, pasta)');
    assert.equal(existsSync(`/proc/${otherPid}`) && (await hostUids(otherPid)).uid === user.subidStart + 1233, false, 'the subordinate-id container is gone');
    const mounts = await mountsUnder(user.dir);
    assert.deepEqual(mounts, [], 'the daemon\'s mounts never reached the host mount table');
  } finally {
    if (daemon) await daemon.stop();
    await registry.stop();
    // the daemon's files are the user's (and its subordinate ids'): removed as root with the user
    await rm(path.join(user.home, '.local'), { recursive: true, force: true }).catch(() => undefined);
    await user.remove();
  }
  assert.equal(await run('id', [user.name]).then(() => true, () => false), false, 'the user is removed');
  assert.equal(existsSync(user.dir), false);
});
