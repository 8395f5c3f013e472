// The parts of berth that need a terminal, through real ptys: `script` for -it runs and
// tmux for detach keys and window resizes; and signal forwarding without a TTY.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requires } from '../support/requirements.js';
import { berthCommand, CliTestEnv, execFile } from './support/harness.js';

const skip = requires('root', 'docker');

function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('berth in a terminal', { skip }, () => {
  const env = new CliTestEnv();
  const tmux = (args: string[]): Promise<{ code: number; stdout: string }> => execFile('tmux', ['-L', `berth-cli-${env.token}`, ...args]);
  const berthLine = (args: string[]): string => `env DOCKER_HOST=${env.host} BERTH_HOST=${env.host} ${shellQuote([...berthCommand(), ...args])}`;

  before(async () => { await env.start(); });
  after(async () => {
    await tmux(['kill-server']);
    await env.stop();
    assert.deepEqual(await env.leakedMounts(), []);
    assert.deepEqual(await env.leakedProcesses(), []);
  });

  test('run -it gets a tty of the terminal size and returns the shell exit code', async () => {
    const inner = `stty rows 30 cols 100; ${berthLine(['run', '-it', '--rm', ...env.label, env.image, 'sh', '-c', 'tty; sleep 1; stty size; exit 7'])}`;
    const result = await execFile('script', ['-qefc', inner, '/dev/null']);
    assert.equal(result.code, 7, result.stdout);
    assert.match(result.stdout, /\/dev\/pts\/\d+\r*\n/);
    assert.match(result.stdout, /30 100\r*\n/);
  });

  test('detach keys leave the container running; SIGWINCH resizes its tty', async () => {
    const name = `tty-${env.token}`;
    const exitFile = path.join(env.root, 'tmux-exit');
    await tmux(['-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', `${berthLine(['run', '-it', ...env.label, '--name', name, env.image, 'sh'])}; echo $? > ${exitFile}; sleep 60`]);
    await tmux(['set', '-g', 'status', 'off']);
    try {
      await until(async () => (await env.docker(['inspect', '-f', '{{.State.Running}}', name])).stdout === 'true\n', 'the container to run');
      await tmux(['send-keys', 'echo typed-$((6*7))', 'Enter']);
      await until(async () => (await tmux(['capture-pane', '-p'])).stdout.includes('typed-42'), 'the shell to echo');
      await tmux(['resize-window', '-x', '100', '-y', '30']);
      await until(async () => (await env.docker(['exec', name, 'stty', '-F', '/dev/pts/0', 'size'])).stdout === '30 100\n', 'the resize to reach the container');
      await tmux(['send-keys', 'C-p', 'C-q']);
      await until(async () => (await readFile(exitFile, 'utf8').catch(() => '')) !== '', 'berth to detach');
      assert.equal((await readFile(exitFile, 'utf8')).trim(), '0');
      assert.equal((await env.docker(['inspect', '-f', '{{.State.Running}}', name])).stdout, 'true\n');
    } finally {
      await env.docker(['rm', '-f', name]);
    }
  });

  test('signals to run are forwarded to the container (--sig-proxy)', async () => {
    const name = `sig-${env.token}`;
    const [node = process.execPath, ...rest] = berthCommand();
    const child = spawn(node, [...rest, 'run', '--rm', ...env.label, '--name', name, env.image, 'sh', '-c',
      'trap "echo got-term; exit 5" TERM; echo ready; while true; do sleep 0.1; done'], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until(async () => out.includes('ready'), 'the container to start');
      child.kill('SIGTERM');
      assert.equal(await exited, 5);
      assert.match(out, /got-term/);
    } finally {
      child.kill('SIGKILL');
      await env.docker(['rm', '-f', name]);
    }
  });
});
