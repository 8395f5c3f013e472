import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import { BerthError } from '../errors/berth-error.js';
import { closeFd, memoryFileWith, reapSoon, signalChild, socketPair, spawnProgram, watchChild } from './posix-spawn.js';

/** run `script` under /bin/sh with its stdout on a socket; resolves with the output and status */
async function runShell(script: string, extra: Array<{ fd: number }> = []): Promise<{ output: string; exitCode: number; signal: number }> {
  const [ours, theirs] = socketPair();
  const pid = spawnProgram({ file: '/bin/sh', argv: ['sh', '-c', script], env: ['PATH=/usr/bin:/bin'], fds: ['devnull', { fd: theirs }, 'inherit', ...extra] });
  closeFd(theirs);
  const status = watchChild(pid);
  const socket = new net.Socket({ fd: ours, readable: true, writable: false });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => socket.on('close', resolve));
  reapSoon(pid);
  return { output: Buffer.concat(chunks).toString(), ...await status };
}

test('the child sees only the fds it was given, even ones of ours without O_CLOEXEC', async () => {
  const leaky = openSync('/dev/null', 'r'); // node opens with O_CLOEXEC; closefrom must catch it anyway
  try {
    const result = await runShell('ls /proc/self/fd');
    // 0-2 and the fd ls opens to list the directory
    assert.deepEqual(result.output.trim().split('\n').map(Number).sort((a, b) => a - b).slice(0, 3), [0, 1, 2]);
    assert.ok(result.output.trim().split('\n').length <= 4, `unexpected fds: ${result.output}`);
  } finally {
    closeSync(leaky);
  }
});

test('fds are placed at their index: a memory file at fd 3 reads from its start', async () => {
  const plan = memoryFileWith(Buffer.from('plan bytes'), 'berth-test');
  try {
    const result = await runShell('cat <&3', [{ fd: plan }]);
    assert.equal(result.output, 'plan bytes');
  } finally {
    closeFd(plan);
  }
});

test('signals start at their defaults and unblocked (node ignores SIGPIPE)', async () => {
  const result = await runShell('grep -E "^Sig(Ign|Blk)" /proc/self/status');
  assert.match(result.output, /SigBlk:\s+0+\n/);
  // glibc leaves its internal signals 32 and 33 ignored in a posix_spawn child of a threaded
  // parent (berth-helper resets them); every standard signal is at its default
  const ignored = BigInt(`0x${/SigIgn:\s+([0-9a-f]+)/.exec(result.output)?.[1] ?? 'ffffffff'}`);
  assert.equal(ignored & 0x7fffffffn, 0n, `ignored: ${ignored.toString(16)}`);
});

test('exit codes and signals come back from the reaper, and nothing is left a zombie', async () => {
  assert.deepEqual(await runShell('exit 7').then((r) => [r.exitCode, r.signal]), [7, 0]);
  const pid = spawnProgram({ file: '/bin/sleep', argv: ['sleep', '30'], env: [], fds: ['devnull', 'devnull', 'devnull'] });
  const status = watchChild(pid);
  signalChild(pid, 'SIGTERM');
  reapSoon(pid);
  assert.deepEqual(await status, { exitCode: 128 + 15, signal: 15 });
  assert.equal(existsSync(`/proc/${pid}`), false, 'the child was reaped');
  signalChild(pid, 'SIGKILL'); // a reaped pid is never signalled (it may be someone else's now)
});

test('a program that cannot be run is a clear error naming it', () => {
  assert.throws(() => spawnProgram({ file: '/nonexistent/berth-helper', argv: ['x'], env: [], fds: ['devnull', 'devnull', 'devnull'] }),
    (err: unknown) => err instanceof BerthError && err.code === 'SPAWN_FAILED' && /\/nonexistent\/berth-helper: ENOENT/.test(err.message));
});
