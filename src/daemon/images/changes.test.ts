import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.js';

test('applies docker --change instructions', () => {
  const c = applyChanges({ Env: ['PATH=/bin'] }, [
    'CMD ["sh", "-c", "echo hi"]', 'ENTRYPOINT /bin/init --flag', 'ENV A=1 B="two words"', 'ENV PATH /usr/bin',
    'EXPOSE 80 53/udp', 'LABEL org.x=y', 'VOLUME ["/data"]', 'VOLUME /logs', 'WORKDIR /app', 'WORKDIR sub',
    'USER nobody', 'STOPSIGNAL SIGINT', 'ONBUILD RUN echo x',
  ]);
  assert.deepEqual(c.Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/init --flag']);
  assert.deepEqual(c.Env, ['PATH=/usr/bin', 'A=1', 'B=two words']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Labels, { 'org.x': 'y' });
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {} });
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.User, 'nobody');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.OnBuild, ['RUN echo x']);
});

test('rejects unknown or malformed changes naming them', () => {
  assert.throws(() => applyChanges({}, ['RUN rm -rf /']), /invalid change "RUN rm -rf \/": RUN is not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE 99999']), /invalid port "99999"/);
  assert.throws(() => applyChanges({}, ['LABEL a="unterminated']), /unterminated quote/);
  assert.throws(() => applyChanges({}, ['USER']), /needs an argument/);
});
