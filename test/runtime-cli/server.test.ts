// berth-runtime through its thin client and resident server: the same observable behaviour
// as the plain command (exit codes, stdio on the caller's own fds, signals, pid file, the
// create/start split, errors), one server per user and --root, and nothing left behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { makeBundle, removeTemplate, uniqueToken } from '../runtime/bundle.js';
import { makeTestRuntime } from '../runtime/harness.js';
import { alive, CLI, isServerOf, runCli, runPlain, serverPid, SOCKET_FILE, startCli, stopServer, waitFor } from './support.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
// the CLI shares the harness's state root, so its leak checks see the CLI's containers
const cliRoot = async (): Promise<string> => path.join((await rtPromise).root, 'berth');
const extraRoots: string[] = [];
after(async () => {
  for (const root of [await cliRoot(), ...extraRoots]) await stopServer(root);
  await (await rtPromise).cleanup();
  for (const root of extraRoots) await rm(root, { recursive: true, force: true });
  await removeTemplate();
});

test('run: exit code, stdout on the caller\'s pipe and stderr in the caller\'s file, as the plain command', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const root = await cliRoot();
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'echo out-$((6*7)); echo err-line >&2; exit 7']);
  const errFile = path.join(bundle.dir, 'stderr.txt');
  for (const [mode, env] of [['server', {}], ['plain', { BERTH_RUNTIME_SERVER: '0' }]] as const) {
    const id = `berth-clirun-${mode}-${token}`;
    const errFd = openSync(errFile, 'w');
    const result = spawnSync(CLI, ['--root', root, 'run', '--bundle', bundle.dir, id],
      { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', errFd] });
    closeSync(errFd);
    assert.equal(result.status, 7, `${mode}: ${readFileSync(errFile, 'utf8')}`);
    assert.equal(result.stdout, 'out-42\n', mode);
    assert.equal(readFileSync(errFile, 'utf8'), 'err-line\n', mode);
    rt.assertNoLeaks(id);
  }
  const pid = serverPid(root);
  assert.ok(pid !== undefined && alive(pid) && isServerOf(pid, root), 'a resident server serves this root');
  await bundle.remove();
});

test('SIGTERM to the client reaches the container; its exit code comes back', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-clisig-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done']);
  const run = startCli(await cliRoot(), ['run', '--bundle', bundle.dir, id]);
  await waitFor('the container to be ready', () => run.output().includes('ready'));
  run.child.kill('SIGTERM');
  assert.deepEqual(await run.exit, { code: 42, signal: null });
  await waitFor('the trap\'s output', () => run.output().includes('got-term'));
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('create --pid-file, then start, state and delete from separate invocations', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const root = await cliRoot();
  const id = `berth-clisplit-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'exit 3']);
  const pidFile = path.join(bundle.dir, 'container.pid');
  // --bundle and --pid-file are relative to the caller's cwd, not the server's; the container
  // inherits create's stdio (as under runc), so no pipe that would stay open until it exits
  const created = spawnSync(CLI, ['--root', root, 'create', '--bundle', '.', '--pid-file', 'container.pid', id],
    { encoding: 'utf8', cwd: bundle.dir, stdio: 'ignore' });
  assert.equal(created.status, 0);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const state = JSON.parse(runCli(root, ['state', id]).stdout) as { status: string; pid: number; bundle: string };
  assert.deepEqual([state.status, state.pid, state.bundle], ['created', pid, bundle.dir]);
  assert.equal(runCli(root, ['start', id]).status, 0);
  await waitFor('the container to stop', () => (JSON.parse(runCli(root, ['state', id]).stdout) as { status: string }).status === 'stopped');
  const del = runCli(root, ['delete', id]);
  assert.equal(del.status, 0, del.stderr);
  const gone = runCli(root, ['state', id]);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, new RegExp(`berth-runtime: .*${id}`));
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('bad input: exit code 1 and the message on the caller\'s stderr', { skip: requires('root') }, async () => {
  const root = await cliRoot();
  const missing = path.join(os.tmpdir(), `berth-no-bundle-${token}`);
  const result = runCli(root, ['run', '--bundle', missing, `berth-clibad-${token}`]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`^berth-runtime: .*${missing}`));
  const unknown = runCli(root, ['frobnicate']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const help = runCli(root, ['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: berth-runtime/);
});

test('exec into a running container gives the process\'s exit code and output', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const root = await cliRoot();
  const id = `berth-cliexec-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'while :; do sleep 1; done']);
  assert.equal(spawnSync(CLI, ['--root', root, 'run', '-d', '--bundle', bundle.dir, id], { stdio: 'ignore' }).status, 0);
  const exec = runCli(root, ['exec', id, '/bin/sh', '-c', 'echo in-$(hostname); exit 5']);
  assert.equal(exec.status, 5, exec.stderr);
  assert.equal(exec.stdout, 'in-runc\n');
  assert.equal(runCli(root, ['delete', '--force', id]).status, 0);
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('a terminal: the caller\'s window size reaches the pty, raw mode is undone afterwards', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-clitty-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe tty; exit 4'], (s) => { s.process!.terminal = true; });
  // script(1) gives the client a pty of its own as stdin/stdout
  const inner = `stty cols 91 rows 33; ${CLI} --root ${await cliRoot()} run --bundle ${bundle.dir} ${id}; echo "rc=$?"; stty -a`;
  const result = spawnSync('script', ['-qec', inner, '/dev/null'], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: '' });
  assert.match(result.stdout, /tty 91x33/);
  assert.match(result.stdout, /rc=4/);
  assert.match(result.stdout, /(^|\s)icanon(\s|$)/m, 'the terminal is back in canonical mode');
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('two --root values never share a server; another uid cannot use root\'s', { skip: requires('root') || (!existsSync('/usr/bin/python3') && 'requires /usr/bin/python3') }, async () => {
  const other = await mkdtemp(path.join(os.tmpdir(), `berth-cliroot-${token}-`));
  extraRoots.push(other);
  const root = await cliRoot();
  assert.equal(runCli(root, ['list']).status, 0);
  assert.equal(runCli(other, ['list']).status, 0);
  const [a, b] = [serverPid(root), serverPid(other)];
  assert.ok(a !== undefined && b !== undefined && a !== b && alive(a) && alive(b));
  assert.ok(isServerOf(b, other) && !isServerOf(b, root));
  // as nobody: the socket (0600, root's) refuses the connection; with its mode opened up,
  // the server still closes it unserved (SO_PEERCRED) instead of answering ACCEPTED
  const socket = path.join(root, SOCKET_FILE);
  const probe = `
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("refused"); sys.exit(0)
try:
    # the server may have closed it already (it checks the peer at accept): that is "closed" too
    s.sendmsg([struct.pack("<II", 0x31545242, 0)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("iii", 0, 1, 2))])
    data = s.recv(12)
except (ConnectionResetError, BrokenPipeError):
    data = b""
print("answered" if data else "closed")
`;
  const asNobody = (): string => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/python3', '-c', probe, socket],
    { encoding: 'utf8' }).stdout.trim();
  assert.equal(asNobody(), 'refused');
  const parent = path.dirname(root);
  spawnSync('chmod', ['0711', parent]);
  spawnSync('chmod', ['0666', socket]);
  try {
    assert.equal(asNobody(), 'closed');
  } finally {
    spawnSync('chmod', ['0600', socket]);
    spawnSync('chmod', ['0700', parent]);
  }
  await stopServer(other);
  assert.ok(!alive(b));
  assert.ok(!existsSync(path.join(other, SOCKET_FILE)), 'the socket goes with its server');
});

test('an idle server exits by itself and leaves no socket or pid file', { skip: requires('root') }, async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), `berth-cliidle-${token}-`));
  extraRoots.push(root);
  assert.equal(runCli(root, ['list'], { BERTH_RUNTIME_SERVER_IDLE_MS: '300' }).status, 0);
  const pid = serverPid(root);
  assert.ok(pid !== undefined && alive(pid));
  await waitFor('the idle server to exit', () => !alive(pid));
  assert.ok(!existsSync(path.join(root, SOCKET_FILE)));
  assert.equal(serverPid(root), undefined);
});

test('kill -9 of the server mid-run: delete --force cleans up, the next client starts a new server', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const root = await cliRoot();
  const id = `berth-clicrash-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'echo ready; while :; do sleep 0.05; done']);
  const run = startCli(root, ['run', '--bundle', bundle.dir, id]);
  await waitFor('the container to be ready', () => run.output().includes('ready'));
  const first = serverPid(root);
  assert.ok(first !== undefined);
  process.kill(first, 'SIGKILL');
  const ended = await run.exit;
  assert.equal(ended.code, 1);
  await waitFor('the client\'s message', () => /runtime server .* went away/.test(run.output()));
  assert.equal((JSON.parse(runCli(root, ['state', id]).stdout) as { status: string }).status, 'running');
  const del = runCli(root, ['delete', '--force', id]);
  assert.equal(del.status, 0, del.stderr);
  const second = serverPid(root);
  assert.ok(second !== undefined && second !== first && alive(second), 'a new server took over');
  rt.assertNoLeaks(id);
  await bundle.remove();
});

test('the plain path gives the same state output', { skip: requires('root') }, async () => {
  const root = await cliRoot();
  const plain = runPlain(root, ['list', '--format', 'json']);
  const served = runCli(root, ['list', '--format', 'json']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(served.stdout, plain.stdout);
});

test('a client in another mount namespace is not served (its paths are not the server\'s): it runs the plain command', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const root = await cliRoot();
  const id = `berth-clins-${token}`;
  const seen = await makeBundle(token, ['/bin/sh', '-c', 'echo from-the-host-bundle']);
  const hidden = await makeBundle(token, ['/bin/sh', '-c', 'echo from-the-namespace-bundle']);
  assert.equal(runCli(root, ['list']).status, 0); // a server is up, in the host's namespaces
  const inner = `mount --bind ${hidden.dir} ${seen.dir} && exec ${CLI} --root ${root} run --bundle ${seen.dir} ${id}`;
  const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inner], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'from-the-namespace-bundle\n');
  rt.assertNoLeaks(id);
  await seen.remove();
  await hidden.remove();
});

test('the container gets the caller\'s umask and rlimits (not the server\'s), and a poststop warning reaches the caller\'s stderr', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const root = await cliRoot();
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'umask; ulimit -Sn; ulimit -Hn; ulimit -Ss']);
  bundle.spec.process!.rlimits = [];
  bundle.spec.hooks = { poststop: [{ path: '/bin/false' }] };
  await bundle.write();
  for (const [mode, env] of [['server', {}], ['plain', { BERTH_RUNTIME_SERVER: '0' }]] as const) {
    const id = `berth-cliinherit-${mode}-${token}`;
    // the server was started by an earlier caller with other limits; this one lowers its own
    const result = spawnSync('/bin/sh', ['-c', 'umask 027; ulimit -Sn 500; ulimit -Hn 1000; ulimit -Ss 4096; exec "$0" "$@"',
      CLI, '--root', root, 'run', '--bundle', bundle.dir, id], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(result.status, 0, `${mode}: ${result.stderr}`);
    // the plain command is node, which raises its own soft NOFILE to the hard limit at start: only the server keeps the caller's
    assert.equal(result.stdout, mode === 'server' ? '0027\n500\n1000\n4096\n' : '0027\n1000\n1000\n4096\n', mode);
    assert.match(result.stderr, new RegExp(`berth-runtime: warning: container ${id}: hooks\\.poststop\\[0\\] /bin/false exited with 1`), mode);
    rt.assertNoLeaks(id);
  }
  await bundle.remove();
});
