// Builds through the real stack: image store, overlay snapshots, the built-in runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requires } from '../support/requirements.js';
import { BuildStack, ECHO_SERVER } from './support.js';

const skip = requires('root', 'overlay');

test('the seed example builds from a local busybox base and caches across a restart', { skip, timeout: 180_000 }, async () => {
  const stack = await BuildStack.start();
  try {
    const dockerfile = [
      `FROM ${stack.base}`,
      'MAINTAINER cs312@osuosl.org # Change your email here',
      '',
      `ADD ${stack.url}/echoserver-simple.py /echoserver-simple.py`,
      'RUN chmod +x /echoserver-simple.py && echo built > /built.txt',
      'EXPOSE 50000',
      'CMD ["/echoserver-simple.py"]',
    ].join('\n');
    const first = await stack.build({ Dockerfile: dockerfile }, { tags: [`berth-build-${stack.token}/echo`] });
    const inspect = await stack.images.inspect(`berth-build-${stack.token}/echo`);
    assert.equal(inspect.Id, first.id);
    const config = await stack.images.readConfig(first.id as never);
    assert.equal(config.author, 'cs312@osuosl.org # Change your email here');
    assert.deepEqual(config.config?.ExposedPorts, { '50000/tcp': {} });
    assert.deepEqual(config.config?.Cmd, ['/echoserver-simple.py']);
    assert.equal(config.rootfs.diff_ids.length, 3, 'busybox + ADD + RUN');
    const history = (config.history ?? []).slice(1);
    assert.deepEqual(history.map((h) => h.created_by?.replace(/file:[a-f0-9]+/, 'file:X')), [
      '/bin/sh -c #(nop)  MAINTAINER cs312@osuosl.org # Change your email here',
      '/bin/sh -c #(nop) ADD file:X in /echoserver-simple.py ',
      '/bin/sh -c chmod +x /echoserver-simple.py && echo built > /built.txt',
      '/bin/sh -c #(nop)  EXPOSE 50000',
      '/bin/sh -c #(nop)  CMD ["/echoserver-simple.py"]',
    ]);
    assert.deepEqual(history.map((h) => h.empty_layer ?? false), [true, false, false, true, true]);
    assert.equal(await stack.readFromImage(first.id, 'echoserver-simple.py'), ECHO_SERVER);
    assert.equal(await stack.readFromImage(first.id, 'built.txt'), 'built\n');
    assert.match(first.output, /Step 1\/6 : FROM berth-build-[0-9a-f]+\/busybox\n ---> [0-9a-f]{12}\n/);
    assert.match(first.output, / ---> Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n/);
    assert.match(first.output, /Successfully built [0-9a-f]{12}\nSuccessfully tagged berth-build-[0-9a-f]+\/echo:latest\n$/);

    await stack.reopen();
    const again = await stack.build({ Dockerfile: dockerfile }, { explainCache: true });
    assert.equal(again.id, first.id);
    assert.equal(again.output.match(/Using cache/g)?.length, 5, again.output);

    const changed = await stack.build({ Dockerfile: dockerfile.replace('echo built', 'echo rebuilt') }, { explainCache: true });
    assert.notEqual(changed.id, first.id);
    assert.equal(await stack.readFromImage(changed.id, 'built.txt'), 'rebuilt\n');
    assert.deepEqual(await stack.leaks(), []);
  } finally {
    await stack.close();
  }
});

test('RUN sees env, user, workdir and build args; a failing RUN leaks nothing', { skip, timeout: 180_000 }, async () => {
  const stack = await BuildStack.start();
  try {
    const dockerfile = [
      `FROM ${stack.base}`,
      'ARG GREETING=hello',
      'ENV TARGET=world',
      'WORKDIR /work/dir',
      'COPY --chown=1000:1000 files/ ./files/',
      'RUN echo "$GREETING $TARGET from $(pwd) as $(id -u)" > out.txt && ls -ln files >> out.txt',
      'USER 1000',
      'RUN id -u > /tmp/uid',
    ].join('\n');
    const built = await stack.build({ Dockerfile: dockerfile, 'files/a.txt': 'a' }, { buildArgs: { GREETING: 'hi' } });
    const out = await stack.readFromImage(built.id, 'work/dir/out.txt');
    assert.match(out, /^hi world from \/work\/dir as 0\n/);
    assert.match(out, /-rw-r--r-- +1 1000 +1000 .* a.txt/);
    assert.equal(await stack.readFromImage(built.id, 'tmp/uid'), '1000\n');
    const config = await stack.images.readConfig(built.id as never);
    assert.ok(config.history?.some((h) => h.created_by === '|1 GREETING=hi /bin/sh -c echo "$GREETING $TARGET from $(pwd) as $(id -u)" > out.txt && ls -ln files >> out.txt'));

    await assert.rejects(stack.build({ Dockerfile: `FROM ${stack.base}\nRUN echo partial > /p && exit 7\n` }),
      /The command '\/bin\/sh -c echo partial > \/p && exit 7' returned a non-zero code: 7/);
    assert.deepEqual(await stack.leaks(), []);
  } finally {
    await stack.close();
  }
});

test('COPY from a tarball context: cached without extracting, a changed file misses and says which', { skip, timeout: 180_000 }, async () => {
  const stack = await BuildStack.start();
  try {
    const dockerfile = `FROM ${stack.base}\nCOPY . /ctx/\nCOPY files/a.txt /a.txt\nRUN cat /a.txt /ctx/files/b.txt > /both\n`;
    const files = { Dockerfile: dockerfile, 'files/a.txt': 'a1\n', 'files/b.txt': 'b\n', '.dockerignore': 'ignored*\n', 'ignored.txt': 'no' };
    const first = await stack.build(files);
    assert.equal(await stack.readFromImage(first.id, 'both'), 'a1\nb\n');
    await assert.rejects(stack.readFromImage(first.id, 'ctx/ignored.txt'), /ENOENT/);
    const cached = await stack.build(files, { explainCache: true });
    assert.equal(cached.id, first.id);
    assert.equal(cached.output.match(/Using cache/g)?.length, 3, cached.output);
    const changed = await stack.build({ ...files, 'files/a.txt': 'a2\n' }, { explainCache: true });
    assert.match(changed.output, /Cache miss: file files\/a.txt changed/);
    assert.equal(await stack.readFromImage(changed.id, 'both'), 'a2\nb\n');
    assert.deepEqual(await stack.leaks(), []);
  } finally {
    await stack.close();
  }
});
