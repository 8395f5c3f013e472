import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { ExitStatus } from '../../../runtime/runtime.js';
import { runProbe, type ProbeProcess, type ProbeRunner } from './probe.js';
import { nextDelayMs } from './schedule.js';

/** A recording fake: a probe that prints, then exits with `code` after `ms` (never when undefined). */
function fakeRunner(output: string, code: number | undefined, ms = 5): { runner: ProbeRunner; killed: number[]; launched: string[][] } {
  const killed: number[] = [];
  const launched: string[][] = [];
  const runner: ProbeRunner = {
    launch: async (args) => {
      launched.push(args);
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let finish!: (status: ExitStatus) => void;
      const exit = new Promise<ExitStatus>((resolve) => { finish = resolve; });
      const end = (status: ExitStatus): void => { stdout.end(); stderr.end(); finish(status); };
      stdout.write(output);
      stderr.write('err\n');
      if (code !== undefined) setTimeout(() => end({ exitCode: code, signal: null }), ms);
      const probe: ProbeProcess = { pid: 4242, io: { kind: 'pipes', stdin: new PassThrough(), stdout, stderr }, exit };
      runner.kill = (pid) => { killed.push(pid); end({ exitCode: 137, signal: 'SIGKILL' }); };
      return await Promise.resolve(probe);
    },
    kill: () => undefined,
  };
  return { runner, killed, launched };
}

test('a probe records its exit code and its stdout and stderr together', async () => {
  const { runner, launched } = fakeRunner('fine\n', 0);
  const entry = await runProbe(runner, ['/bin/sh', '-c', 'x'], 1000);
  assert.deepEqual(launched, [['/bin/sh', '-c', 'x']]);
  assert.equal(entry.ExitCode, 0);
  assert.equal(entry.Output, 'fine\nerr\n');
  assert.ok(entry.Start <= entry.End);
});

test('a probe that overruns its timeout is killed and recorded as exit -1', async () => {
  const { runner, killed } = fakeRunner('', undefined);
  const entry = await runProbe(runner, ['sleep', '1000'], 50);
  assert.deepEqual(killed, [4242]);
  assert.equal(entry.ExitCode, -1);
  assert.equal(entry.Output, 'Health check exceeded timeout (50ms)');
});

test('a probe that cannot start is a failure with the reason as output', async () => {
  const runner: ProbeRunner = { launch: () => Promise.reject(new Error('container abc is not running')), kill: () => undefined };
  const entry = await runProbe(runner, ['true'], 50);
  assert.deepEqual([entry.ExitCode, entry.Output], [-1, 'container abc is not running']);
});

test('schedule: StartInterval while starting inside the start period, Interval otherwise', () => {
  const probe = { args: ['true'], intervalMs: 30_000, timeoutMs: 1000, startPeriodMs: 10_000, startIntervalMs: 2_000, retries: 3 };
  assert.equal(nextDelayMs(probe, 'starting', 0), 2_000);
  assert.equal(nextDelayMs(probe, 'healthy', 0), 30_000);
  assert.equal(nextDelayMs(probe, 'starting', 10_000), 30_000);
  assert.equal(nextDelayMs({ ...probe, startPeriodMs: 0 }, 'starting', 0), 30_000);
});
