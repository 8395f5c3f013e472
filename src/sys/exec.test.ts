import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, chmod, realpath } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BerthError } from '../errors/berth-error.js';
import { runProgram } from './exec.js';

test('stdout and stderr are captured apart and the input is read to its end', async () => {
  const result = await runProgram('sh', ['-c', 'cat; echo to-err >&2'], { input: 'line one\nline two\n' });
  assert.deepEqual(result, { code: 0, stdout: 'line one\nline two\n', stderr: 'to-err\n' });
});

test('a program that does not read a large input still finishes', async () => {
  const result = await runProgram('true', [], { input: Buffer.alloc(4 << 20, 0x61) });
  assert.equal(result.code, 0);
});

test('output larger than a socket buffer is read whole', async () => {
  const result = await runProgram('head', ['-c', String(3 << 20), '/dev/zero']);
  assert.equal(result.stdout.length, 3 << 20);
});

test('a non-zero exit throws PROGRAM_FAILED naming the command and its stderr, unless allowed', async () => {
  await assert.rejects(runProgram('sh', ['-c', 'echo broken >&2; exit 3']),
    (err: unknown) => err instanceof BerthError && err.code === 'PROGRAM_FAILED' && /^sh -c .* exited with 3: broken$/.test(err.message));
  const allowed = await runProgram('sh', ['-c', 'exit 3'], { allowFailure: true });
  assert.equal(allowed.code, 3);
});

test('a missing program is PROGRAM_NOT_RUNNABLE naming it, and leaves none of our fds open', async () => {
  const before = readdirSync('/proc/self/fd').length;
  await assert.rejects(runProgram('berth-no-such-program', ['x']),
    (err: unknown) => err instanceof BerthError && err.code === 'PROGRAM_NOT_RUNNABLE' && /berth-no-such-program: ENOENT/.test(err.message));
  await assert.rejects(runProgram('/nonexistent/berth-prog', []), (err: unknown) => err instanceof BerthError && err.code === 'PROGRAM_NOT_RUNNABLE');
  assert.equal(readdirSync('/proc/self/fd').length, before);
});

test('cwd, env, argv0 and a PATH of the caller are the program\'s', async () => {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'berth-exec-test-')));
  try {
    const script = path.join(dir, 'berth-probe-prog');
    await writeFile(script, '#!/bin/sh\necho "$0|$(pwd)|$BERTH_X"\n');
    await chmod(script, 0o755);
    const result = await runProgram('berth-probe-prog', [], { cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin`, BERTH_X: 'y' } });
    assert.equal(result.stdout, `${script}|${dir}|y\n`);
    const named = await runProgram('sh', ['-c', 'echo $0'], { argv0: 'hook-name' });
    assert.equal(named.stdout, 'hook-name\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a timeout kills the program and counts as a failure', async () => {
  const started = Date.now();
  const result = await runProgram('sleep', ['30'], { timeoutMs: 100, allowFailure: true });
  assert.equal(result.code, 128 + 9);
  assert.ok(Date.now() - started < 10_000);
  await assert.rejects(runProgram('sleep', ['30'], { timeoutMs: 50 }), (err: unknown) => err instanceof BerthError && err.code === 'PROGRAM_FAILED');
});

test('programs run side by side', async () => {
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => runProgram('sh', ['-c', `echo ${i}`])));
  assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 8 }, (_, i) => `${i}\n`));
});
