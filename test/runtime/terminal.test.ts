// A real pty: the configured console size, resize from outside, and runc's
// --console-socket protocol (the master fd arrives over a unix socket).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';
import { makeBundle, removeTemplate, uniqueToken } from './bundle.js';
import { makeTestRuntime } from './harness.js';

const token = uniqueToken();
const rtPromise = makeTestRuntime(token);
after(async () => { await (await rtPromise).cleanup(); await removeTemplate(); });

test('a pty with the configured size; resize reaches the container', { skip: requires('root') }, async () => {
  const rt = await rtPromise;
  const id = `berth-tty-${token}`;
  const bundle = await makeBundle(token, ['/bin/sh', '-c', 'probe tty; read x; probe tty; exit 3'], (s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { width: 100, height: 40 };
  });
  const handle = await rt.runtime.create(id, bundle.dir);
  assert.equal(handle.io.kind, 'terminal');
  if (handle.io.kind !== 'terminal') return;
  const io = handle.io;
  let screen = '';
  const seen = (text: string): Promise<void> => new Promise((resolve) => {
    const check = (): void => { if (screen.includes(text)) { io.terminal.off('data', onData); resolve(); } };
    const onData = (chunk: Buffer): void => { screen += chunk.toString(); check(); };
    io.terminal.on('data', onData);
    check();
  });
  await rt.runtime.start(id);
  await seen('tty 100x40');
  await io.resize(120, 50);
  io.terminal.write('go\n');
  await seen('tty 120x50');
  assert.deepEqual(await handle.exit, { exitCode: 3, signal: null });
  await rt.runtime.delete(id);
  rt.assertNoLeaks(id);
  await bundle.remove();
});

const pythonReceiver = `
import socket, sys, os, array
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(1)
print("listening", flush=True)
conn, _ = srv.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 1024, 1)
out = b""
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
`;

test('berth-runtime create --console-socket sends the pty master as runc does', { skip: requires('root') || (!existsSync('/usr/bin/python3') && 'requires /usr/bin/python3') }, async () => {
  const rt = await rtPromise;
  const id = `berth-console-${token}`;
  const bundle = await makeBundle(token, ['/bin/probe', 'tty'], (s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { width: 77, height: 22 };
  });
  const socketPath = path.join(bundle.dir, 'console.sock');
  const receiver = spawn('/usr/bin/python3', ['-c', pythonReceiver, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = '';
  receiver.stdout.on('data', (c: Buffer) => { received += c.toString(); });
  while (!received.includes('listening')) await new Promise((r) => setTimeout(r, 10));
  const cli = path.join(REPO_ROOT, 'bin/berth-runtime');
  const root = path.join(rt.root, 'cli');
  // the container inherits create's stdio: a pipe would stay open until the container exits
  const create = spawnSync(cli, ['--root', root, 'create', '--bundle', bundle.dir, '--console-socket', socketPath, id], { stdio: 'ignore' });
  assert.equal(create.status, 0);
  assert.equal(spawnSync(cli, ['--root', root, 'start', id]).status, 0);
  await new Promise((r) => receiver.on('close', r));
  assert.match(received, /tty 77x22/);
  for (let i = 0; i < 100 && JSON.parse(spawnSync(cli, ['--root', root, 'state', id], { encoding: 'utf8' }).stdout).status !== 'stopped'; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const del = spawnSync(cli, ['--root', root, 'delete', id], { encoding: 'utf8' });
  assert.equal(del.status, 0, del.stderr);
  assert.ok(!existsSync(path.join(root, id)));
  await bundle.remove();
});

