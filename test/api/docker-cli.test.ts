// The real docker CLI against a private berthd: the everyday verbs, with output checked,
// then a clean daemon stop and a leak check. Written to pass with docker 20.10 and 28.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { retireBerthd, docker, dockerOk, importBusybox, startBerthd, type Berthd } from './harness.js';

const run = promisify(execFile);
const skip = requires('root', 'docker', 'overlay');

describe('docker CLI against berthd', { skip, timeout: 600_000 }, () => {
  let d: Berthd;

  before(async () => {
    d = await startBerthd();
    await importBusybox(d);
  });

  after(async () => {
    if (!d) return;
    await docker(d, ['rm', '-f', 'web', 'web2', 'paused', 'restarts']);
    const leaks = await retireBerthd(d);
    assert.deepEqual(leaks, [], 'nothing of berthd is left on the host');
  });

  test('version, info and images', async () => {
    assert.match(await dockerOk(d, ['version', '--format', '{{.Server.APIVersion}}']), /^1\.\d+$/);
    assert.equal(await dockerOk(d, ['info', '--format', '{{.Images}}']), '1');
    assert.match(await dockerOk(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']), /busybox:latest/);
  });

  test('run prints output, passes env, workdir, user and the exit code', async () => {
    assert.equal(await dockerOk(d, ['run', '--rm', '-e', 'GREETING=hi', '-w', '/tmp', '-u', 'user', 'busybox',
      'sh', '-c', 'echo $GREETING $(pwd) $(id -u)']), 'hi /tmp 1000');
    const failed = await docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'exit 7']);
    assert.equal(failed.code, 7);
    assert.equal(await dockerOk(d, ['run', '--rm', '-i', 'busybox', 'cat'], 'from stdin\n'), 'from stdin');
    const missing = await docker(d, ['run', '--rm', 'nosuchimage:1']);
    assert.notEqual(missing.code, 0);
  });

  test('limits reach the container', async () => {
    const out = await dockerOk(d, ['run', '--rm', '-m', '64m', '--pids-limit', '50', '--cpus', '0.5', 'busybox',
      'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max']);
    assert.match(out, /67108864/);
    assert.match(out, /\b50\b/);
  });

  test('detached containers: ps, logs, exec, top, inspect, stats, rename, pause', async () => {
    const id = await dockerOk(d, ['run', '-d', '--name', 'web', '--label', 'tier=front', 'busybox',
      'sh', '-c', 'echo ready; trap "exit 0" TERM; while true; do sleep 0.2; done']);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await dockerOk(d, ['ps', '--format', '{{.Names}}', '--filter', 'label=tier=front']), 'web');
    assert.equal(await dockerOk(d, ['ps', '-q', '--no-trunc']), id);
    for (let i = 0; i < 20 && !(await dockerOk(d, ['logs', 'web'])).includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await dockerOk(d, ['logs', '--tail', '1', 'web']), 'ready');
    assert.equal(await dockerOk(d, ['exec', 'web', 'cat', '/etc/hostname']), id.slice(0, 12));
    assert.match(await dockerOk(d, ['top', 'web']), /while true/);
    assert.equal(await dockerOk(d, ['inspect', '-f', '{{.State.Running}} {{.Config.Labels.tier}}', 'web']), 'true front');
    assert.match(await dockerOk(d, ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'web']), /^web \d+$/);
    await dockerOk(d, ['rename', 'web', 'web2']);
    await dockerOk(d, ['pause', 'web2']);
    assert.equal(await dockerOk(d, ['inspect', '-f', '{{.State.Status}}', 'web2']), 'paused');
    await dockerOk(d, ['unpause', 'web2']);
    const started = Date.now();
    await dockerOk(d, ['stop', 'web2']);
    assert.ok(Date.now() - started < 8000, 'TERM handled without waiting for the timeout');
    assert.equal(await dockerOk(d, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'web2']), 'exited 0');
    assert.equal(await dockerOk(d, ['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}']), 'web2');
    await dockerOk(d, ['rm', 'web2']);
  });

  test('cp both ways, diff, commit, export', async () => {
    await dockerOk(d, ['run', '-d', '--name', 'web', 'busybox', 'sleep', '60']);
    const local = path.join(d.dir, 'note.txt');
    await writeFile(local, 'copied in\n');
    await dockerOk(d, ['cp', local, 'web:/tmp/note.txt']);
    assert.equal(await dockerOk(d, ['exec', 'web', 'cat', '/tmp/note.txt']), 'copied in');
    await dockerOk(d, ['cp', 'web:/etc/passwd', path.join(d.dir, 'passwd')]);
    assert.match(await readFile(path.join(d.dir, 'passwd'), 'utf8'), /^root:x:0:0/);
    const escape = await docker(d, ['cp', 'web:/../../../../etc/shadow', path.join(d.dir, 'shadow')]);
    assert.notEqual(escape.code, 0, 'no path leaves the container root');
    assert.match(await dockerOk(d, ['diff', 'web']), /A \/tmp\/note.txt/);
    await dockerOk(d, ['commit', 'web', 'committed:1']);
    assert.equal(await dockerOk(d, ['run', '--rm', 'committed:1', 'cat', '/tmp/note.txt']), 'copied in');
    const exported = path.join(d.dir, 'export.tar');
    await run('sh', ['-c', `docker export web > ${exported}`], { env: d.env });
    const { stdout } = await run('tar', ['-tf', exported]);
    assert.match(stdout, /tmp\/note.txt/);
    await dockerOk(d, ['kill', 'web']);
    assert.equal(await dockerOk(d, ['wait', 'web']), '137');
    await dockerOk(d, ['rm', 'web']);
    await dockerOk(d, ['rmi', 'committed:1']);
  });

  test('run -it through a pty: an interactive shell and its exit code; logs -f follows to the end', async () => {
    const typing = `(sleep 2; printf 'echo tty-$((6*7))\\r'; sleep 1; printf 'exit 3\\r'; sleep 1)`;
    const session = await run('sh', ['-c', `${typing} | script -qec "docker run -it --rm busybox sh" /dev/null`], { env: d.env })
      .then((r) => ({ out: r.stdout, code: 0 }), (e: { stdout?: string; code?: number }) => ({ out: e.stdout ?? '', code: e.code ?? -1 }));
    assert.match(session.out, /tty-42/);
    assert.equal(session.code, 3);
    await dockerOk(d, ['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done']);
    assert.equal(await dockerOk(d, ['logs', '-f', 'web']), 'line1\nline2\nline3');
    await dockerOk(d, ['rm', 'web']);
  });

  test('restart policy on-failure:2 retries twice', async () => {
    await dockerOk(d, ['run', '-d', '--name', 'restarts', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
    let state = '';
    for (let i = 0; i < 100; i++) {
      state = await dockerOk(d, ['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'restarts']);
      if (state === '2 exited') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(state, '2 exited');
    await dockerOk(d, ['rm', 'restarts']);
  });

  test('tag, save, load, rmi, system df and events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await dockerOk(d, ['tag', 'busybox', 'mybox:v2']);
    const archive = path.join(d.dir, 'save.tar');
    await dockerOk(d, ['save', '-o', archive, 'mybox:v2']);
    await dockerOk(d, ['rmi', 'mybox:v2']);
    assert.match(await dockerOk(d, ['load', '-i', archive]), /Loaded image: mybox:v2/);
    assert.match(await dockerOk(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']), /mybox:v2/);
    await dockerOk(d, ['rmi', 'mybox:v2']);
    assert.match(await dockerOk(d, ['system', 'df']), /Images/);
    const events = await dockerOk(d, ['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1),
      '--filter', 'type=image', '--format', '{{.Action}}']);
    assert.match(events, /tag/);
    assert.match(events, /untag|delete/);
  });

  test('errors: unknown container is 404-ish, bad names and ambiguous input are refused', async () => {
    const missing = await docker(d, ['inspect', 'no-such-container']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such/i);
    const badName = await docker(d, ['create', '--name', 'bad name!', 'busybox']);
    assert.notEqual(badName.code, 0);
    assert.match(badName.stderr, /Invalid container name/);
  });
});
