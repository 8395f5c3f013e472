import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { parseGlobals, runCli } from './app.js';
import { lookupCommand } from './registry.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const streams = { stdout, stderr, stdin: new PassThrough() } as unknown as Parameters<typeof runCli>[2];
  // an unreachable daemon: none of these may get as far as a request
  const code = await runCli(argv, { BERTH_HOST: 'unix:///nonexistent/berth-unit.sock' }, streams);
  return { code, out, err };
}

test('global flags before the verb', () => {
  const g = parseGlobals(['-H', 'unix:///x', '--debug', 'ps', '-a']);
  assert.equal(g.host, 'unix:///x');
  assert.deepEqual(g.rest, ['ps', '-a']);
  assert.equal(parseGlobals(['--host=tcp://h:1', 'ps']).host, 'tcp://h:1');
  assert.throws(() => parseGlobals(['--bogus']), /unknown flag: --bogus/);
});

test('verbs and management forms resolve to one module each', () => {
  const ls = lookupCommand(['container', 'ls']);
  const ps = lookupCommand(['ps']);
  assert.ok(ls !== undefined && 'entry' in ls && ps !== undefined && 'entry' in ps);
  assert.equal(ls.entry, ps.entry);
  assert.deepEqual(lookupCommand(['image']), { management: 'image' });
  assert.equal(lookupCommand(['frobnicate']), undefined);
});

test('usage errors: unknown flag 125, missing argument 1, bad size 125, with docker words', async () => {
  const unknown = await cli(['ps', '--foo']);
  assert.equal(unknown.code, 125);
  assert.equal(unknown.err, "unknown flag: --foo\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n");
  const missing = await cli(['rm']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]\n\nSee 'berth rm --help'/);
  const size = await cli(['run', '-m', '12xb', 'img']);
  assert.equal(size.code, 125);
  assert.match(size.err, /^invalid argument "12xb" for "-m, --memory" flag: invalid suffix: 'xb'/);
  const verb = await cli(['frobnicate']);
  assert.equal(verb.code, 1);
  assert.match(verb.err, /unknown command: berth frobnicate/);
});

test('help is printed for every command without a daemon', async () => {
  const help = await cli(['run', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage:  berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]/);
  assert.match(help.out, /-m, --memory bytes/);
  const top = await cli(['--help']);
  assert.match(top.out, /Management Commands:\n  container/);
  const viaHelp = await cli(['help', 'ps']);
  assert.match(viaHelp.out, /Usage:  berth ps \[OPTIONS\]/);
});

test('no daemon: exit 1 and a message saying what to start', async () => {
  const ps = await cli(['ps']);
  assert.equal(ps.code, 1);
  assert.match(ps.err, /cannot connect to the daemon at unix:\/\/\/nonexistent\/berth-unit\.sock: is the daemon running\?\nstart it with: sudo berthd/);
});

test('completion scripts come from the command definitions', async () => {
  const bash = await cli(['completion', 'bash']);
  assert.equal(bash.code, 0);
  assert.match(bash.out, /complete -F _berth berth/);
  assert.match(bash.out, /run\) flags="[^"]*--pids-limit/);
  const zsh = await cli(['completion', 'zsh']);
  assert.match(zsh.out, /^#compdef berth/);
  assert.equal((await cli(['completion', 'fish'])).code, 1);
});
