// berth and the docker CLI against the same daemon: container verbs must print the same
// columns, formats and messages and exit with the same codes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requires } from '../support/requirements.js';
import { CliTestEnv, firstLine, tableCells } from './support/harness.js';

const skip = requires('root', 'docker');

describe('berth container commands match the docker CLI', { skip }, () => {
  const env = new CliTestEnv();
  before(async () => { await env.start(); });
  after(async () => {
    await env.stop();
    assert.deepEqual(await env.leakedMounts(), []);
    assert.deepEqual(await env.leakedProcesses(), []);
  });

  test('run prints the output and returns the exit status', async () => {
    const { berth, docker } = await env.both(['run', '--rm', ...env.label, env.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(berth.code, 3);
    assert.equal(berth.code, docker.code);
    assert.equal(berth.stdout, 'out\n');
    assert.equal(berth.stderr, 'err\n');
    assert.equal(berth.stdout, docker.stdout);
  });

  test('run: 127 for a missing command, 126 for a non-executable one, same message', async () => {
    for (const [cmd, code] of [['no-such-cmd', 127], ['/etc/passwd', 126]] as const) {
      const { berth, docker } = await env.both(['run', '--rm', ...env.label, env.image, cmd]);
      assert.equal(berth.code, code, berth.stderr);
      assert.equal(docker.code, code);
      // berthd starts the container and the helper reports the failed execve on its stderr, so
      // every client prints the same line (dockerd fails the start request instead)
      // docker 20.10's reportError ends the line with a period; docker 23 and later do not
      const withoutPeriod = (text: string): string => firstLine(text).replace(/\.$/, '');
      assert.equal(withoutPeriod(berth.stderr), withoutPeriod(docker.stderr));
    }
  });

  test('run passes stdin with -i and flags after the image to the command', async () => {
    const { berth, docker } = await env.both(['run', '--rm', '-i', ...env.label, env.image, 'sh', '-c', 'cat; echo -n done'], { input: 'line1\nline2\n' });
    assert.equal(berth.stdout, 'line1\nline2\ndone');
    assert.equal(berth.stdout, docker.stdout);
    const ls = await env.both(['run', '--rm', ...env.label, env.image, 'ls', '-d', '/etc']);
    assert.equal(ls.berth.stdout, '/etc\n');
  });

  test('run applies -e, --env-file, -w, -u, --hostname, --entrypoint, labels', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cli-env-'));
    try {
      await writeFile(path.join(dir, 'env'), '# comment\nFROMFILE=yes\n\n');
      const args = ['run', '--rm', ...env.label, '-e', 'A=1', '--env-file', path.join(dir, 'env'), '-w', '/tmp', '-u', '1000:1000',
        '--hostname', 'berthhost', '--entrypoint', 'sh', env.image, '-c', 'echo $A $FROMFILE $(pwd) $(id -u) $(hostname)'];
      const { berth, docker } = await env.both(args);
      assert.equal(berth.stdout, '1 yes /tmp 1000 berthhost\n');
      assert.equal(berth.stdout, docker.stdout);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('create, start, ps, stop, rm print what docker prints', async () => {
    const created = await env.berth(['create', ...env.label, '--name', `c1-${env.token}`, env.image, 'sleep', '300']);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const started = await env.berth(['start', `c1-${env.token}`]);
    assert.equal(started.stdout, `c1-${env.token}\n`);
    const fmt = '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.State}} {{.Labels}}';
    const ps = await env.both(['ps', '--filter', `name=c1-${env.token}`, '--format', fmt]);
    assert.equal(ps.berth.stdout, `${id.slice(0, 12)} c1-${env.token} ${env.image} "sleep 300" running berth-cli-test=${env.token}\n`);
    assert.equal(ps.berth.stdout, ps.docker.stdout);
    const table = await env.both(['ps', '--filter', `name=c1-${env.token}`]);
    // the same columns; their widths follow the cells ("1 second ago" vs "2 seconds ago" when docker runs a second later)
    const headings = (out: string): string[] => (out.split('\n')[0] ?? '').split(/\s{2,}/);
    assert.deepEqual(headings(table.berth.stdout), headings(table.docker.stdout));
    assert.deepEqual(tableCells(table.berth.stdout), tableCells(table.docker.stdout));
    const json = await env.both(['ps', '--filter', `name=c1-${env.token}`, '--format', '{{json .}}']);
    const strip = (s: string): Record<string, unknown> => { const v = JSON.parse(s) as Record<string, unknown>; delete v.RunningFor; delete v.Status; return v; };
    const berthJson = strip(json.berth.stdout);
    if (env.legacyDockerClient) {
      // Platform joined ps's fields in docker 25; a 20.10 CLI has no such key.
      assert.equal(berthJson.Platform, null);
      delete berthJson.Platform;
    }
    assert.deepEqual(berthJson, strip(json.docker.stdout));
    const quiet = await env.both(['ps', '-q', '--filter', `name=c1-${env.token}`]);
    assert.equal(quiet.berth.stdout, `${id.slice(0, 12)}\n`);
    assert.equal(quiet.berth.stdout, quiet.docker.stdout);
    const noTrunc = await env.berth(['ps', '-q', '--no-trunc', '--filter', `name=c1-${env.token}`]);
    assert.equal(noTrunc.stdout, `${id}\n`);
    const stopped = await env.berth(['stop', '-t', '1', `c1-${env.token}`]);
    assert.equal(stopped.stdout, `c1-${env.token}\n`);
    const waited = await env.berth(['wait', `c1-${env.token}`]);
    assert.equal(waited.stdout, '137\n');
    const removed = await env.berth(['rm', `c1-${env.token}`]);
    assert.equal(removed.stdout, `c1-${env.token}\n`);
  });

  test('inspect prints the same JSON and templates as docker', async () => {
    const name = `insp-${env.token}`;
    assert.equal((await env.berth(['create', ...env.label, '--name', name, env.image, 'echo', '<&>'])).code, 0);
    try {
      const { berth, docker } = await env.both(['inspect', name]);
      assert.equal(berth.code, 0);
      assert.equal(berth.stdout, docker.stdout);
      const fmt = await env.both(['inspect', '--format', '{{.Name}} {{.State.Status}} {{json .Config.Cmd}} {{join .Config.Cmd ","}} {{upper .State.Status}}', name]);
      assert.equal(fmt.berth.stdout, `/${name} created ["echo","<&>"] echo,<&> CREATED\n`);
      assert.equal(fmt.berth.stdout, fmt.docker.stdout);
      const image = await env.both(['image', 'inspect', '--format', '{{.Id}} {{.Config.Cmd}}', env.image]);
      assert.equal(image.berth.stdout, image.docker.stdout);
      const typed = await env.both(['inspect', '--type', 'container', '-f', '{{.Id}}', name]);
      assert.equal(typed.berth.stdout, typed.docker.stdout);
    } finally {
      await env.berth(['rm', name]);
    }
  });

  test('inspect of a missing object: [] on stdout, the error, exit 1', async () => {
    const { berth, docker } = await env.both(['inspect', `nosuch-${env.token}`]);
    assert.equal(berth.code, 1);
    assert.equal(berth.code, docker.code);
    assert.equal(berth.stdout, '[]\n');
    assert.equal(berth.stdout, docker.stdout);
    assert.equal(berth.stderr, docker.stderr);
  });

  test('daemon errors for each target: name on success, message on failure, exit 1', async () => {
    const { berth, docker } = await env.both(['rm', `nosuch-${env.token}`]);
    assert.equal(berth.code, 1);
    assert.equal(berth.code, docker.code);
    assert.equal(env.asDockerPrints(berth.stderr, 'rm'), docker.stderr);
    const kill = await env.both(['kill', `nosuch-${env.token}`]);
    assert.equal(env.asDockerPrints(kill.berth.stderr, 'kill'), kill.docker.stderr);
    assert.equal(kill.berth.code, kill.docker.code);
  });

  test('logs, exec, top, diff, rename, pause/unpause, update, port, restart, kill', async () => {
    const name = `life-${env.token}`;
    const run = await env.berth(['run', '-d', ...env.label, '--name', name, env.image, 'sh', '-c', 'echo hello; echo oops >&2; touch /newfile; sleep 300']);
    assert.equal(run.code, 0, run.stderr);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const logs = await env.both(['logs', name]);
      assert.equal(logs.berth.stdout, 'hello\n');
      assert.equal(logs.berth.stderr, 'oops\n');
      assert.equal(logs.berth.stdout, logs.docker.stdout);
      const tail = await env.both(['logs', '--tail', '1', '-t', name]);
      assert.equal(tail.berth.stdout, tail.docker.stdout);
      const exec = await env.both(['exec', '-e', 'X=7', '-w', '/etc', name, 'sh', '-c', 'echo $X $(pwd); exit 4']);
      assert.equal(exec.berth.stdout, '7 /etc\n');
      assert.equal(exec.berth.code, 4);
      assert.equal(exec.docker.code, 4);
      const execIn = await env.both(['exec', '-i', name, 'cat'], { input: 'piped\n' });
      assert.equal(execIn.berth.stdout, 'piped\n');
      const missing = await env.both(['exec', name, 'no-such-cmd']);
      assert.equal(missing.berth.code, missing.docker.code);
      const top = await env.both(['top', name]);
      assert.equal(top.berth.stdout.split('\n')[0], top.docker.stdout.split('\n')[0]);
      assert.match(top.berth.stdout, /sleep 300/);
      const diff = await env.both(['diff', name]);
      assert.match(diff.berth.stdout, /^A \/newfile$/m);
      assert.equal(diff.berth.stdout, diff.docker.stdout);
      const port = await env.both(['port', name]);
      assert.equal(port.berth.stdout, port.docker.stdout);
      assert.equal(port.berth.code, port.docker.code);
      const paused = await env.berth(['pause', name]);
      assert.equal(paused.stdout, `${name}\n`);
      assert.match((await env.berth(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
      assert.equal((await env.berth(['unpause', name])).stdout, `${name}\n`);
      const updated = await env.berth(['update', '-m', '64m', '--memory-swap', '-1', name]);
      assert.equal(updated.stdout, `${name}\n`, updated.stderr);
      assert.equal((await env.docker(['inspect', '-f', '{{.HostConfig.Memory}}', name])).stdout, `${64 * 1024 * 1024}\n`);
      const renamed = await env.berth(['rename', name, `${name}-2`]);
      assert.equal(renamed.code, 0, renamed.stderr);
      assert.equal((await env.berth(['restart', '-t', '1', `${name}-2`])).stdout, `${name}-2\n`);
      assert.equal((await env.berth(['kill', '-s', 'KILL', `${name}-2`])).stdout, `${name}-2\n`);
      assert.equal((await env.berth(['wait', `${name}-2`])).stdout, '137\n');
    } finally {
      await env.docker(['rm', '-f', name, `${name}-2`]);
    }
  });

  test('cp copies both ways and export streams the filesystem', async () => {
    const name = `cp-${env.token}`;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cli-cp-'));
    assert.equal((await env.berth(['create', ...env.label, '--name', name, env.image, 'true'])).code, 0);
    try {
      await writeFile(path.join(dir, 'in.txt'), 'from host\n');
      const put = await env.berth(['cp', path.join(dir, 'in.txt'), `${name}:/tmp/renamed.txt`]);
      assert.equal(put.code, 0, put.stderr);
      const putDir = await env.berth(['cp', path.join(dir, 'in.txt'), `${name}:/etc/`]);
      assert.equal(putDir.code, 0, putDir.stderr);
      const get = await env.berth(['cp', `${name}:/tmp/renamed.txt`, path.join(dir, 'out.txt')]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(await readFile(path.join(dir, 'out.txt'), 'utf8'), 'from host\n');
      const getInto = await env.berth(['cp', `${name}:/etc/in.txt`, dir + '/']);
      assert.equal(getInto.code, 0, getInto.stderr);
      const dockerGet = await env.docker(['cp', `${name}:/etc/passwd`, path.join(dir, 'passwd.docker')]);
      assert.equal(dockerGet.code, 0);
      assert.equal((await env.berth(['cp', `${name}:/etc/passwd`, path.join(dir, 'passwd.berth')])).code, 0);
      assert.equal(await readFile(path.join(dir, 'passwd.berth'), 'utf8'), await readFile(path.join(dir, 'passwd.docker'), 'utf8'));
      const exported = await env.berth(['export', '-o', path.join(dir, 'fs.tar'), name]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.ok((await readFile(path.join(dir, 'fs.tar'))).length > 1_000_000);
      const missing = await env.both(['cp', `${name}:/no/such`, dir]);
      assert.equal(missing.berth.code, missing.docker.code);
    } finally {
      await env.docker(['rm', '-f', name]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--rm removes the container; container prune reports what it removed', async () => {
    const name = `rm-${env.token}`;
    assert.equal((await env.berth(['run', '--rm', ...env.label, '--name', name, env.image, 'true'])).code, 0);
    const after = await env.docker(['ps', '-a', '-q', '--filter', `name=${name}`]);
    assert.equal(after.stdout, '');
    const exited = await env.berth(['run', ...env.label, '--name', name, env.image, 'true']);
    assert.equal(exited.code, 0);
    const id = (await env.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
    const pruned = await env.berth(['container', 'prune', '-f', '--filter', `label=berth-cli-test=${env.token}`]);
    assert.equal(pruned.stdout, `Deleted Containers:\n${id}\n\nTotal reclaimed space: 0B\n`);
  });

  test('management forms and stats/system df print docker tables', async () => {
    const ls = await env.both(['container', 'ls', '-a', '--filter', `label=berth-cli-test=${env.token}`, '--format', '{{.Names}}']);
    assert.equal(ls.berth.stdout, ls.docker.stdout);
    const df = await env.both(['system', 'df']);
    assert.equal(df.berth.stdout.split('\n')[0], df.docker.stdout.split('\n')[0]);
    assert.deepEqual(tableCells(df.berth.stdout), tableCells(df.docker.stdout));
    const name = `stats-${env.token}`;
    assert.equal((await env.berth(['run', '-d', ...env.label, '--name', name, env.image, 'sleep', '300'])).code, 0);
    try {
      const stats = await env.both(['stats', '--no-stream', name]);
      assert.equal(stats.berth.stdout.split('\n')[0], stats.docker.stdout.split('\n')[0]);
      assert.match(stats.berth.stdout.split('\n')[1] ?? '', new RegExp(`^[0-9a-f]{12}\\s+${name}\\s+\\d+\\.\\d\\d%\\s+`));
    } finally {
      await env.docker(['rm', '-f', name]);
    }
  });

  test('events prints the same lines for the same window', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const name = `ev-${env.token}`;
    await env.berth(['run', '--rm', ...env.label, '--name', name, env.image, 'true']);
    const until = Math.floor(Date.now() / 1000) + 1;
    await new Promise((r) => setTimeout(r, 1100));
    const args = ['events', '--since', String(since), '--until', String(until), '--filter', `container=${name}`];
    const { berth, docker } = await env.both(args);
    assert.equal(berth.code, 0, berth.stderr);
    assert.match(berth.stdout, / container start [0-9a-f]{64} \(/);
    assert.equal(berth.stdout, docker.stdout);
  });
});
