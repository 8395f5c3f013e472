import assert from 'node:assert/strict';
import { Command } from 'commander';
import { test } from 'node:test';
import { addContainerOptions, buildCreateBody, parseMount, parsePublish } from './container-config.js';
import { Flags } from './context.js';
import { UsageError } from './errors.js';

function parse(args: string[]): { flags: Flags; rest: string[] } {
  const cmd = new Command('run').exitOverride().argument('[args...]').passThroughOptions();
  addContainerOptions(cmd);
  cmd.parse(args, { from: 'user' });
  return { flags: new Flags(cmd.opts()), rest: cmd.args };
}

test('run flags become the create body docker sends', () => {
  const { flags, rest } = parse(['-it', '--rm', '-e', 'A=1', '-e', 'UNSET_VAR_X', '-m', '64m', '--cpus', '1.5', '--pids-limit', '20',
    '--cap-add', 'NET_ADMIN', '--tmpfs', '/run:size=1m', '--ulimit', 'nofile=10:20', '-p', '127.0.0.1:8080:80', '-l', 'k=v',
    '--restart', 'no', '--read-only', '--init', '--entrypoint', '', 'img', 'sh', '-c', 'ls -l']);
  const body = buildCreateBody(rest[0] ?? '', rest.slice(1), flags, { }, false);
  assert.equal(body.Image, 'img');
  assert.deepEqual(body.Cmd, ['sh', '-c', 'ls -l']);
  assert.deepEqual(body.Env, ['A=1']);
  assert.equal(body.Tty, true);
  assert.equal(body.OpenStdin, true);
  assert.deepEqual(body.Entrypoint, ['']);
  assert.deepEqual(body.Labels, { k: 'v' });
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {} });
  const host = body.HostConfig as Record<string, unknown>;
  assert.equal(host.Memory, 64 * 1024 * 1024);
  assert.equal(host.NanoCpus, 1_500_000_000);
  assert.equal(host.PidsLimit, 20);
  assert.equal(host.AutoRemove, true);
  assert.equal(host.ReadonlyRootfs, true);
  assert.equal(host.Init, true);
  assert.deepEqual(host.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(host.Tmpfs, { '/run': 'size=1m' });
  assert.deepEqual(host.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }]);
  assert.deepEqual(host.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
});

test('bad values are refused before anything is sent, in docker words', () => {
  assert.throws(() => parse(['-m', '12xb', 'img']), (err: unknown) => err instanceof UsageError && err.exitCode === 125
    && err.message === 'invalid argument "12xb" for "-m, --memory" flag: invalid suffix: \'xb\'');
  assert.throws(() => parse(['--pids-limit', 'ten', 'img']), /invalid argument "ten" for "--pids-limit" flag/);
  const conflict = parse(['--rm', '--restart', 'always', 'img']);
  assert.throws(() => buildCreateBody('img', [], conflict.flags, {}, false), /Conflicting options: --restart and --rm/);
  const badRestart = parse(['--restart', 'sometimes', 'img']);
  assert.throws(() => buildCreateBody('img', [], badRestart.flags, {}, false), /invalid restart policy/);
});

test('publish specs: ranges, protocols, IPv6, errors', () => {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  parsePublish(['8000-8001:80-81/udp', '[::1]:9000:90', '53'], exposed, bindings);
  assert.deepEqual(Object.keys(exposed).sort(), ['53/tcp', '80/udp', '81/udp', '90/tcp']);
  assert.deepEqual(bindings['81/udp'], [{ HostIp: '', HostPort: '8001' }]);
  assert.deepEqual(bindings['90/tcp'], [{ HostIp: '::1', HostPort: '9000' }]);
  assert.deepEqual(bindings['53/tcp'], [{ HostIp: '', HostPort: '' }]);
  assert.throws(() => parsePublish(['abc'], {}, {}), /invalid containerPort: abc/);
  assert.throws(() => parsePublish(['80/xyz'], {}, {}), /invalid proto: xyz/);
});

test('--mount fields', () => {
  assert.deepEqual(parseMount('type=bind,source=/a,target=/b,readonly'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true });
  assert.throws(() => parseMount('type=bind,source=/a'), /target is required/);
  assert.throws(() => parseMount('type=bind,bogus=1,target=/b'), /unexpected key 'bogus'/);
});

test('health flags become Config.Healthcheck in nanoseconds; --no-healthcheck is NONE and conflicts with them', () => {
  const { flags, rest } = parse(['--health-cmd', 'wget -q localhost', '--health-interval', '1m30s', '--health-timeout', '500ms',
    '--health-retries', '4', '--health-start-period', '2s', '--health-on-failure', 'restart', 'img']);
  const body = buildCreateBody(rest[0] ?? '', [], flags, {}, true);
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 90e9, Timeout: 500e6,
    StartPeriod: 2e9, StartInterval: 0, Retries: 4 });
  assert.equal((body.HostConfig as Record<string, unknown>).HealthOnFailure, 'restart');
  const none = parse(['--no-healthcheck', 'img']);
  assert.deepEqual(buildCreateBody('img', [], none.flags, {}, true).Healthcheck, { Test: ['NONE'] });
  assert.equal(buildCreateBody('img', [], parse(['img']).flags, {}, true).Healthcheck, undefined);
  const conflict = parse(['--no-healthcheck', '--health-cmd', 'true', 'img']);
  assert.throws(() => buildCreateBody('img', [], conflict.flags, {}, true), /--no-healthcheck conflicts with --health-\* options/);
  const badAction = parse(['--health-on-failure', 'explode', 'img']);
  assert.throws(() => buildCreateBody('img', [], badAction.flags, {}, true), /--health-on-failure/);
});
