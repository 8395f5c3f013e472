import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile, stat, symlink, readlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { runProgram } from '../../sys/exec.js';
import { MemoryBackends } from '../testing/memory-backends.js';
import { runBuild, type BuildRequest } from './evaluator.js';
import { openDirectoryContext } from '../context/context.js';
import { BuildCache } from '../cache/build-cache.js';
import type { BuildEvent } from '../backends.js';
import type { ImageConfig } from '../../oci/image.js';

let work: string;
let server: Server;
let serverUrl: string;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'berth-eval-test-'));
  server = createServer((req, res) => {
    if (req.url === '/echoserver-simple.py') {
      res.writeHead(200, { 'content-length': '14', 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end('print("echo")\n');
    } else if (req.url === '/liar') {
      res.writeHead(200, { 'content-length': '100' });
      res.end('short');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  serverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

interface Harness { mem: MemoryBackends; context: string; output: string[]; events: BuildEvent[]; cache: BuildCache }

async function harness(files: Record<string, string> = {}): Promise<Harness> {
  const mem = await MemoryBackends.create();
  const base = path.join(mem.dir, 'base-root');
  await mkdir(path.join(base, 'etc'), { recursive: true });
  await writeFile(path.join(base, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  await writeFile(path.join(base, 'etc/group'), 'root:x:0:\nstaff:x:50:\n');
  await mem.addBaseImage('busybox:latest', base, { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'] });
  const context = path.join(mem.dir, 'context');
  await mkdir(context, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(context, name)), { recursive: true });
    await writeFile(path.join(context, name), content);
  }
  return { mem, context, output: [], events: [], cache: await BuildCache.open(path.join(mem.dir, 'cache')) };
}

async function build(h: Harness, dockerfile: string, options: Partial<BuildRequest> = {}): Promise<ImageConfig> {
  const request: BuildRequest = {
    dockerfile, context: await openDirectoryContext(h.context), buildArgs: {}, tags: [], target: undefined, labels: {},
    noCache: false, pull: false, platform: undefined, network: undefined, secrets: {}, explainCache: true, ...options,
  };
  const result = await runBuild(request, { backends: h.mem.backends(), cache: h.cache, cacheMountDir: path.join(h.mem.dir, 'cache-mounts') }, (e) => {
    h.events.push(e);
    if (e.type === 'stream') h.output.push(e.text);
  });
  const image = h.mem.images.get(result.imageId);
  assert.ok(image, 'the result image is stored');
  assert.equal(h.mem.live.size, 0, 'no writable root is left behind');
  return image.config;
}

test('the seed example: MAINTAINER, ADD from a URL, EXPOSE, CMD give docker\'s config and history', async () => {
  const h = await harness();
  const config = await build(h, [
    'FROM busybox',
    'MAINTAINER cs312@osuosl.org # Change your email here',
    `ADD ${serverUrl}/echoserver-simple.py /echoserver-simple.py`,
    'EXPOSE 50000',
    'CMD ["python", "/echoserver-simple.py"]',
  ].join('\n'), { tags: ['cs312/echo'] });
  assert.equal(config.author, 'cs312@osuosl.org # Change your email here');
  assert.deepEqual(config.config?.ExposedPorts, { '50000/tcp': {} });
  assert.deepEqual(config.config?.Cmd, ['python', '/echoserver-simple.py']);
  const history = (config.history ?? []).slice(1).map((h) => h.created_by);
  assert.equal(history[0], '/bin/sh -c #(nop)  MAINTAINER cs312@osuosl.org # Change your email here');
  assert.match(history[1] ?? '', /^\/bin\/sh -c #\(nop\) ADD file:[a-f0-9]{64} in \/echoserver-simple.py $/);
  assert.equal(history[2], '/bin/sh -c #(nop)  EXPOSE 50000');
  assert.equal(history[3], '/bin/sh -c #(nop)  CMD ["python" "/echoserver-simple.py"]');
  assert.deepEqual((config.history ?? []).slice(1).map((x) => x.empty_layer ?? false), [true, false, true, true]);
  assert.equal(config.rootfs.diff_ids.length, 2);
  const text = h.output.join('');
  assert.match(text, /^Step 1\/5 : FROM busybox\n ---> [a-f0-9]{12}\nStep 2\/5 : MAINTAINER/);
  assert.match(text, /Successfully built [a-f0-9]{12}\nSuccessfully tagged cs312\/echo:latest\n$/);
  assert.ok(h.mem.tags.has('cs312/echo'));
  await h.mem.destroy();
});

test('ADD from a URL keeps the name, sets mode 0600 and Last-Modified; a lying server fails', async () => {
  const h = await harness();
  let seen: { mode: number; mtime: number; text: string } | undefined;
  h.mem.onRun = async (req) => {
    const file = path.join(req.root.path, 'dl/echoserver-simple.py');
    const info = await stat(file);
    seen = { mode: info.mode & 0o777, mtime: info.mtime.getTime(), text: await readFile(file, 'utf8') };
    return 0;
  };
  await build(h, `FROM busybox\nADD ${serverUrl}/echoserver-simple.py /dl/\nRUN check`);
  assert.deepEqual(seen, { mode: 0o600, mtime: Date.parse('2015-10-21T07:28:00Z'), text: 'print("echo")\n' });
  await assert.rejects(build(h, `FROM busybox\nADD ${serverUrl}/liar /x`), /announced 100 bytes but sent 5|terminated|other side closed/);
  await assert.rejects(build(h, `FROM busybox\nADD ${serverUrl}/missing /x`), /server answered 404/);
  await assert.rejects(build(h, `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${serverUrl}/echoserver-simple.py /x`), /checksum of/);
  assert.equal(h.mem.live.size, 0);
  await h.mem.destroy();
});

test('ENV, ARG, LABEL, USER, WORKDIR, ENTRYPOINT, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD', async () => {
  const h = await harness();
  const config = await build(h, [
    'ARG BASE=busybox',
    'FROM $BASE',
    'ARG VERSION=1.0',
    'ENV APP_VERSION=$VERSION HOME_DIR="/srv/my app"',
    'ENV LEGACY value with spaces',
    'LABEL version="${APP_VERSION}" "other"=x',
    'WORKDIR /srv',
    'WORKDIR app',
    'USER app:staff',
    'VOLUME ["/data", "/logs"]',
    'STOPSIGNAL SIGQUIT',
    'HEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD curl -f http://localhost/ || exit 1',
    'ENTRYPOINT ["/entry"]',
    'ONBUILD RUN echo triggered',
    'SHELL ["/bin/bash", "-c"]',
    'CMD run $APP_VERSION',
  ].join('\n'), { buildArgs: { VERSION: '2.0' } });
  const c = config.config ?? {};
  assert.deepEqual(c.Env, ['PATH=/usr/bin:/bin', 'APP_VERSION=2.0', 'HOME_DIR=/srv/my app', 'LEGACY=value with spaces']);
  assert.deepEqual(c.Labels, { version: '2.0', other: 'x' });
  assert.equal(c.WorkingDir, '/srv/app');
  assert.equal(c.User, 'app:staff');
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {} });
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 300e9, Timeout: 3e9, Retries: 3 });
  assert.deepEqual(c.Entrypoint, ['/entry']);
  assert.deepEqual(c.Cmd, ['/bin/bash', '-c', 'run $APP_VERSION']);
  assert.deepEqual(c.OnBuild, ['RUN echo triggered']);
  assert.deepEqual(c.Shell, ['/bin/bash', '-c']);
  const history = (config.history ?? []).slice(1).map((x) => x.created_by);
  assert.deepEqual(history.slice(0, 4), [
    '/bin/sh -c #(nop)  ARG VERSION=1.0',
    '/bin/sh -c #(nop)  ENV APP_VERSION=2.0 HOME_DIR=/srv/my app',
    '/bin/sh -c #(nop)  ENV LEGACY=value with spaces',
    '/bin/sh -c #(nop)  LABEL version=2.0 other=x',
  ]);
  assert.equal(history[4], '/bin/sh -c #(nop) WORKDIR /srv');
  assert.equal(history[7], '/bin/sh -c #(nop)  VOLUME [/data /logs]');
  assert.equal(history[9], '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/ || exit 1"] "5m0s" "3s" "0s" \'\\x03\'}');
  assert.equal(history[13], '/bin/bash -c #(nop)  CMD ["/bin/bash" "-c" "run $APP_VERSION"]');

  // the child build runs the trigger first and drops OnBuild
  const parentId = [...h.mem.images.entries()].find(([, img]) => img.config === config || JSON.stringify(img.config) === JSON.stringify(config))?.[0];
  assert.ok(parentId);
  h.mem.tags.set('parent', parentId);
  const child = await build(h, 'FROM parent\nRUN echo child');
  assert.equal(child.config?.OnBuild, null);
  assert.deepEqual(h.mem.runs.map((r) => r.args), [['/bin/bash', '-c', 'echo triggered'], ['/bin/bash', '-c', 'echo child']]);
  assert.equal(h.mem.runs[0]?.user, 'app:staff');
  assert.equal(h.mem.runs[0]?.workingDir, '/srv/app');
  assert.match(h.output.join(''), /# Executing 1 build trigger\n/);
  await h.mem.destroy();
});

test('RUN: shell and exec forms, build args in env and history, heredocs, mounts, failures', async () => {
  const h = await harness({ 'data.txt': 'ctx' });
  h.mem.onRun = async (req) => {
    if (req.args.includes('fail')) return 3;
    await writeFile(path.join(req.root.path, `run-${h.mem.runs.length}`), req.args.join(' '));
    return 0;
  };
  const config = await build(h, [
    'FROM busybox',
    'ARG TOKEN=abc',
    'RUN echo $TOKEN',
    'RUN ["/bin/echo", "exec"]',
    'RUN --network=none --mount=type=cache,target=/root/.cache --mount=type=bind,source=data.txt,target=/ctx --mount=type=tmpfs,target=/tmp <<EOF',
    'echo hello',
    'EOF',
  ].join('\n'), { buildArgs: { http_proxy: 'http://proxy:3128' } });
  assert.deepEqual(h.mem.runs[0]?.args, ['/bin/sh', '-c', 'echo $TOKEN']);
  assert.ok(h.mem.runs[0]?.env.includes('TOKEN=abc'));
  assert.ok(h.mem.runs[0]?.env.includes('http_proxy=http://proxy:3128'));
  assert.deepEqual(h.mem.runs[1]?.args, ['/bin/echo', 'exec']);
  assert.deepEqual(h.mem.runs[2]?.args, ['/bin/sh', '-c', 'echo hello\n']);
  assert.equal(h.mem.runs[2]?.network, 'none');
  assert.deepEqual(h.mem.runs[2]?.mounts.map((m) => [m.type, m.target]), [['bind', '/root/.cache'], ['bind', '/ctx'], ['tmpfs', '/tmp']]);
  const history = (config.history ?? []).map((x) => x.created_by);
  // the proxy arg is used but not shown, the declared one is
  assert.ok(history.includes('|1 TOKEN=abc /bin/sh -c echo $TOKEN'), history.join('\n'));
  await assert.rejects(build(h, 'FROM busybox\nRUN fail'), /The command '\/bin\/sh -c fail' returned a non-zero code: 3/);
  assert.equal(h.mem.live.size, 0);
  await h.mem.destroy();
});

test('COPY: files, dirs, wildcards, dest rules, --chown, --chmod, .dockerignore, --from, --parents, heredoc', async () => {
  const h = await harness({
    'app/main.js': 'main', 'app/lib/util.js': 'util', 'app/node_modules/x/index.js': 'nm',
    'a.txt': 'A', 'b.txt': 'B', 'secret.key': 'S', '.dockerignore': '**/node_modules\n*.key\n',
  });
  await symlink('/a.txt', path.join(h.context, 'escape-link'));
  await symlink('../a.txt', path.join(h.context, 'app/lib/link'));
  let listing: Record<string, string> = {};
  h.mem.onRun = async (req) => {
    const read = async (p: string): Promise<string> => readFile(path.join(req.root.path, p), 'utf8').catch(() => '<missing>');
    listing = {
      main: await read('srv/main.js'), util: await read('srv/lib/util.js'), nm: await read('srv/node_modules/x/index.js'),
      a: await read('txt/a.txt'), b: await read('txt/b.txt'), renamed: await read('one'), key: await read('txt/secret.key'),
      fromStage: await read('copied/a.txt'), parents: await read('p/app/lib/util.js'), heredoc: await read('conf/app.conf'),
      mode: ((await stat(path.join(req.root.path, 'txt/a.txt'))).mode & 0o777).toString(8),
      link: await read('link'), nested: await readlink(path.join(req.root.path, 'srv/lib/link')).catch(() => '<none>'),
    };
    return 0;
  };
  await build(h, [
    'FROM busybox AS first',
    'COPY a.txt /first/',
    'FROM busybox',
    'ENV NAME=app',
    'COPY app /srv',
    'COPY --chmod=640 *.txt /txt/',
    'COPY a.txt one',
    'COPY --from=first /first/a.txt /copied/',
    'COPY --parents app/lib/util.js /p/',
    'COPY escape-link /link',
    'COPY <<EOF /conf/app.conf',
    'name=$NAME',
    'EOF',
    'COPY --chown=app:staff a.txt /owned',
    'RUN list',
  ].join('\n'));
  assert.deepEqual(listing, {
    main: 'main', util: 'util', nm: '<missing>', a: 'A', b: 'B', renamed: 'A', key: '<missing>',
    fromStage: 'A', parents: 'util', heredoc: 'name=app\n', mode: '640', link: 'A', nested: '../a.txt',
  });
  await assert.rejects(build(h, 'FROM busybox\nCOPY missing.txt /x'), /line 2.*file not found in build context/);
  await assert.rejects(build(h, 'FROM busybox\nCOPY secret.key /x'), /excluded by .dockerignore/);
  await assert.rejects(build(h, 'FROM busybox\nCOPY ../outside /x'), /forbidden path outside the build context/);
  await assert.rejects(build(h, 'FROM busybox\nCOPY a.txt b.txt /nodir'), /must be a directory and end with a \//);
  await assert.rejects(build(h, 'FROM busybox\nCOPY --chown=nobody a.txt /x'), /unable to find user nobody/);
  await assert.rejects(build(h, 'FROM busybox\nCOPY --from=nowhere a /x'), /no such image: nowhere/);
  assert.equal(h.mem.live.size, 0);
  await h.mem.destroy();
});

test('a COPY source symlink pointing outside the context resolves inside it', async () => {
  const h = await harness({ 'inside.txt': 'in' });
  await mkdir(path.join(h.context, 'dir'));
  await symlink('../../../../../../etc', path.join(h.context, 'dir/up'));
  await assert.rejects(build(h, 'FROM busybox\nCOPY dir/up/passwd /x'), /file not found in build context/);
  await h.mem.destroy();
});

test('ADD unpacks local tar archives and refuses entries with ..', async () => {
  const h = await harness();
  const src = path.join(h.mem.dir, 'tarsrc');
  await mkdir(path.join(src, 'pkg'), { recursive: true });
  await writeFile(path.join(src, 'pkg/file.txt'), 'packed');
  await tar.c({ file: path.join(h.context, 'plain.tar'), cwd: src }, ['pkg']);
  const gz = gzipSync(await readFile(path.join(h.context, 'plain.tar')));
  await writeFile(path.join(h.context, 'archive.bin'), gz);
  let seen: string[] = [];
  h.mem.onRun = async (req) => {
    seen = [await readFile(path.join(req.root.path, 'opt/pkg/file.txt'), 'utf8'), await readFile(path.join(req.root.path, 'gz/pkg/file.txt'), 'utf8')];
    return 0;
  };
  await build(h, 'FROM busybox\nADD plain.tar /opt/\nADD archive.bin /gz\nRUN check');
  assert.deepEqual(seen, ['packed', 'packed']);
  // bzip2 and xz, recognised by their magic bytes
  await runProgram('sh', ['-c', 'bzip2 -c plain.tar > a.tbz && xz -c plain.tar > a.txz'], { cwd: h.context });
  h.mem.onRun = async (req) => {
    seen = [await readFile(path.join(req.root.path, 'bz/pkg/file.txt'), 'utf8'), await readFile(path.join(req.root.path, 'xz/pkg/file.txt'), 'utf8')];
    return 0;
  };
  await build(h, 'FROM busybox\nADD a.tbz /bz/\nADD a.txz /xz/\nRUN check');
  assert.deepEqual(seen, ['packed', 'packed']);
  // a hostile archive with a ../ entry
  const evil = Buffer.alloc(1024 + 512);
  const header = Buffer.alloc(512);
  header.write('../evil.txt', 0);
  header.write('0000644\0', 100); header.write('0000000\0', 108); header.write('0000000\0', 116);
  header.write('00000000004\0', 124); header.write('00000000000\0', 136); header.write('0', 156); header.write('ustar\x0000', 257);
  header.write('        ', 148);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  header.copy(evil, 0);
  evil.write('evil', 512);
  await writeFile(path.join(h.context, 'evil.tar'), evil);
  await assert.rejects(build(h, 'FROM busybox\nADD evil.tar /dest/'), /cannot unpack archive evil.tar/);
  await h.mem.destroy();
});

test('multi-stage: only needed stages build, --target, unknown target fails', async () => {
  const h = await harness({ 'f': 'x' });
  const file = [
    'FROM busybox AS unused', 'RUN never',
    'FROM busybox AS builder', 'RUN make',
    'FROM busybox AS final', 'COPY --from=builder /built /built', 'RUN final',
  ].join('\n');
  h.mem.onRun = async (req) => {
    if (req.args.includes('make')) await writeFile(path.join(req.root.path, 'built'), 'b');
    return 0;
  };
  await build(h, file);
  assert.deepEqual(h.mem.runs.map((r) => r.args[2]), ['make', 'final']);
  h.mem.runs.length = 0;
  await build(h, file, { target: 'builder', noCache: true });
  assert.deepEqual(h.mem.runs.map((r) => r.args[2]), ['make']);
  await assert.rejects(build(h, file, { target: 'nope' }), /failed to reach build target nope/);
  await h.mem.destroy();
});

test('cache: hits, misses with reasons, --no-cache, and a reopened cache', async () => {
  const h = await harness({ 'app.txt': 'v1', 'other.txt': 'o' });
  const file = 'FROM busybox\nARG MODE=dev\nCOPY app.txt /app.txt\nRUN echo $MODE\nCMD ["x"]';
  const first = await build(h, file);
  assert.equal(h.mem.runs.length, 1);
  h.output.length = 0;
  const second = await build(h, file);
  assert.equal(h.mem.runs.length, 1, 'RUN is not executed again');
  assert.deepEqual(second.rootfs, first.rootfs);
  assert.equal(h.output.join('').match(/Using cache/g)?.length, 4);

  await writeFile(path.join(h.context, 'app.txt'), 'v2');
  h.events.length = 0;
  await build(h, file);
  const misses = h.events.filter((e) => e.type === 'cache' && !e.hit).map((e) => (e.type === 'cache' ? e.reason : ''));
  assert.equal(misses[0], 'file app.txt changed');
  assert.equal(h.mem.runs.length, 2);

  h.events.length = 0;
  await build(h, file, { buildArgs: { MODE: 'prod' } });
  const argMiss = h.events.find((e) => e.type === 'cache' && !e.hit);
  assert.ok(argMiss?.type === 'cache');
  assert.match(argMiss.reason, /evaluated instruction changed|build arg MODE changed/);

  // a new process opening the same cache dir still hits
  h.cache = await BuildCache.open(path.join(h.mem.dir, 'cache'));
  const runsBefore = h.mem.runs.length;
  await build(h, file, { buildArgs: { MODE: 'prod' } });
  assert.equal(h.mem.runs.length, runsBefore);
  await build(h, file, { noCache: true });
  assert.equal(h.mem.runs.length, runsBefore + 1);
  const pruned = await h.cache.prune({ all: true });
  assert.ok(pruned.length > 0);
  assert.equal(h.cache.count, 0);
  await h.mem.destroy();
});

test('errors name the line: unknown instruction, blank base, bad chmod, bad port', async () => {
  const h = await harness({ 'a': 'a' });
  await assert.rejects(build(h, 'FROM busybox\nBOGUS x'), /line 2 \(BOGUS\): unknown instruction: BOGUS/);
  await assert.rejects(build(h, 'ARG B\nFROM $B'), /base name \(\$B\) should not be blank/);
  await assert.rejects(build(h, 'FROM busybox\nCOPY --chmod=abc a /a'), /invalid --chmod "abc"/);
  await assert.rejects(build(h, 'FROM busybox\nEXPOSE 99999'), /invalid port range: 99999/);
  await h.mem.destroy();
});

test('independent stages build two at a time, never more', async () => {
  const h = await harness();
  let active = 0;
  let most = 0;
  const wakers: Array<() => void> = [];
  h.mem.onRun = async () => {
    active++;
    most = Math.max(most, active);
    // a RUN stays until a third runs beside it (only possible without the bound) or a pause
    // passes; the pause lets a second stage's RUN join, which shows the overlap
    if (active >= 3) for (const wake of wakers.splice(0)) wake();
    else await new Promise<void>((resolve) => { wakers.push(resolve); setTimeout(resolve, 2000); });
    active--;
    return 0;
  };
  const stages = ['a', 'b', 'c', 'd'].map((n) => `FROM busybox AS ${n}\nRUN make-${n}`);
  await build(h, [...stages, 'FROM busybox', ...['a', 'b', 'c', 'd'].map((n) => `COPY --from=${n} /etc/passwd /${n}`)].join('\n'));
  assert.equal(most, 2, 'two stages overlapped and no third joined them');
  assert.deepEqual(h.mem.runs.map((r) => r.args.at(-1)).sort(), ['make-a', 'make-b', 'make-c', 'make-d']);
  await h.mem.destroy();
});

test('a chain of stages each waiting for the next does not deadlock the slots', async () => {
  const h = await harness();
  const chain = ['FROM busybox AS s0', 'RUN step-0'];
  for (let i = 1; i < 5; i++) chain.push(`FROM s${i - 1} AS s${i}`, `COPY --from=s0 /etc/group /g${i}`, `RUN step-${i}`);
  await build(h, chain.join('\n'));
  assert.deepEqual(h.mem.runs.map((r) => r.args.at(-1)), ['step-0', 'step-1', 'step-2', 'step-3', 'step-4']);
  await h.mem.destroy();
});

test('--cache-from: an image with the same parent and history is the cache, even with an empty cache', async () => {
  const h = await harness({ 'a.txt': 'a\n' });
  const dockerfile = 'FROM busybox\nENV A=1\nCOPY a.txt /a.txt\nRUN make\nCMD ["run"]\n';
  await build(h, dockerfile, { tags: ['app:v1'] });
  const source = h.mem.tags.get('app:v1') ?? '';
  const runs = h.mem.runs.length;
  h.cache = await BuildCache.open(path.join(h.mem.dir, 'empty-cache'));
  h.output.length = 0;
  const reused = await build(h, dockerfile, { cacheFrom: ['app:v1'] });
  assert.equal(h.mem.runs.length, runs, 'no RUN executed');
  assert.equal(h.output.join('').match(/Using cache/g)?.length, 4, h.output.join(''));
  assert.deepEqual(reused, h.mem.images.get(source)?.config, 'the last step is the source image itself');

  h.cache = await BuildCache.open(path.join(h.mem.dir, 'empty-cache-2'));
  h.output.length = 0;
  await build(h, dockerfile.replace('RUN make', 'RUN make other'), { cacheFrom: ['app:v1', 'missing:tag'] });
  const text = h.output.join('');
  assert.equal(text.match(/Using cache/g)?.length, 2, 'ENV and COPY hit, RUN and what follows miss');
  assert.match(text, /cache source missing:tag is not a local image/);
  assert.equal(h.mem.runs.at(-1)?.args.at(-1), 'make other');
  await h.mem.destroy();
});
