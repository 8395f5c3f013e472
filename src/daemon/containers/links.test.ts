import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkEnv, parseLink, resolveLinks } from './links.js';
import type { ContainerRecord } from './record.js';

function record(name: string, running: boolean, extra: { Env?: string[]; ExposedPorts?: Record<string, object>; Links?: string[] } = {}): ContainerRecord {
  return {
    Id: name.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a').slice(0, 64), Name: `/${name}`, Created: '', Path: '', Args: [], Image: '',
    Config: { Env: extra.Env ?? [], ExposedPorts: extra.ExposedPorts ?? {} },
    HostConfig: { Links: extra.Links ?? [] },
    State: { Status: running ? 'running' : 'exited', Running: running, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: '', FinishedAt: '' },
    RestartCount: 0, ManuallyStopped: false, Runtime: 'berth', CgroupsPath: '', ExecIDs: [],
  } as ContainerRecord;
}

test('link specs: name, name:alias and the normalized form; hostile ones refused', () => {
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('db:data-base'), { name: 'db', alias: 'data-base' });
  assert.deepEqual(parseLink('/db:/web/database'), { name: 'db', alias: 'database' });
  assert.throws(() => parseLink('a:b:c'), /invalid link "a:b:c"/);
  assert.throws(() => parseLink('../x:y'), /invalid link/);
});

test('link env as docker sets it: lowest port first (tcp wins a tie), name, child env without HOME/PATH', () => {
  const child = record('db', true, { Env: ['PATH=/bin', 'HOME=/root', 'PASSWORD=pw', 'EMPTY='], ExposedPorts: { '5432/tcp': {}, '53/udp': {}, '53/tcp': {} } });
  const env = linkEnv('/web', 'data-base', child, '172.17.0.5');
  assert.equal(env[0], 'DATA_BASE_PORT=tcp://172.17.0.5:53');
  for (const line of ['DATA_BASE_PORT_53_UDP=udp://172.17.0.5:53', 'DATA_BASE_PORT_5432_TCP_ADDR=172.17.0.5', 'DATA_BASE_PORT_5432_TCP_PORT=5432',
    'DATA_BASE_PORT_5432_TCP_PROTO=tcp', 'DATA_BASE_NAME=/web/data-base', 'DATA_BASE_ENV_PASSWORD=pw', 'DATA_BASE_ENV_EMPTY=']) {
    assert.ok(env.includes(line), `${line} in ${env.join(' ')}`);
  }
  assert.ok(!env.some((e) => e.startsWith('DATA_BASE_ENV_PATH') || e.startsWith('DATA_BASE_ENV_HOME')));
});

test('a link to a stopped container, or one off the default bridge, is refused by name', () => {
  const web = record('web', false, { Links: ['db:d'] });
  const stopped = record('db', false);
  assert.throws(() => resolveLinks(web, () => stopped, () => undefined), /non running container: \/db AS \/web\/d/);
  const elsewhere = record('db', true);
  assert.throws(() => resolveLinks(web, () => elsewhere, () => ({ IPAddress: '' })), /does not belong to the default network/);
  const ok = resolveLinks(web, () => elsewhere, () => ({ IPAddress: '172.17.0.9' }));
  assert.deepEqual(ok.links, [{ name: 'db', alias: 'd', containerId: elsewhere.Id }]);
  assert.ok(ok.env.includes('D_NAME=/web/d'));
});
