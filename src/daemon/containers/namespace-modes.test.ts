import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyShmMode, checkNamespaceModes, namespaceList, resolveSharedNamespaces, withDefaultModes } from './namespace-modes.js';

const donors = new Map([
  ['web', { id: 'a'.repeat(64), pid: 4242, ipcMode: 'shareable', shmPath: '/c/a/shm' }],
  ['priv', { id: 'b'.repeat(64), pid: 4343, ipcMode: 'private', shmPath: '/c/b/shm' }],
  ['stopped', { id: 'c'.repeat(64), pid: undefined, ipcMode: 'shareable', shmPath: '/c/c/shm' }],
]);
const lookup = (name: string) => donors.get(name);

test('bad modes and a hostname with --uts host are refused at create', () => {
  assert.throws(() => checkNamespaceModes({ PidMode: 'bogus' }, undefined), /invalid PID mode: bogus/);
  assert.throws(() => checkNamespaceModes({ IpcMode: 'container:' }, undefined), /no container named/);
  assert.throws(() => checkNamespaceModes({ UTSMode: 'container:x' }, undefined), /invalid UTS mode/);
  assert.throws(() => checkNamespaceModes({ UTSMode: 'host' }, 'box'), /hostname and the UTS mode/);
  checkNamespaceModes({ UsernsMode: 'auto:size=4096' }, undefined);
  assert.throws(() => checkNamespaceModes({ UsernsMode: 'auto:size=' }, undefined), /invalid USER mode/);
  assert.throws(() => checkNamespaceModes({ UsernsMode: 'bogus' }, undefined), /invalid USER mode: bogus/);
  checkNamespaceModes({ PidMode: 'host', IpcMode: 'shareable', UTSMode: 'host', UsernsMode: 'host' }, undefined);
});

test('defaults shown by inspect are docker\'s', () => {
  assert.deepEqual(withDefaultModes({}), { PidMode: '', IpcMode: 'private', UTSMode: '', CgroupnsMode: 'host' });
});

test('host and container modes become joined or absent namespaces', () => {
  const host = { PidMode: 'container:web', IpcMode: 'container:web', UTSMode: 'host', CgroupnsMode: 'private' as const };
  const shared = resolveSharedNamespaces(host, lookup);
  assert.deepEqual(namespaceList(host, shared, null), [
    { type: 'mount' }, { type: 'pid', path: '/proc/4242/ns/pid' }, { type: 'ipc', path: '/proc/4242/ns/ipc' }, { type: 'cgroup' },
  ]);
  const hostPid = resolveSharedNamespaces({ PidMode: 'host', IpcMode: 'host' }, lookup);
  assert.deepEqual(namespaceList({}, hostPid, undefined), [{ type: 'mount' }, { type: 'uts' }, { type: 'network' }]);
});

test('donors that are gone, stopped or private are clear errors', () => {
  assert.throws(() => resolveSharedNamespaces({ PidMode: 'container:gone' }, lookup), /No such container: gone/);
  assert.throws(() => resolveSharedNamespaces({ PidMode: 'container:stopped' }, lookup), /non running container: stopped/);
  assert.throws(() => resolveSharedNamespaces({ IpcMode: 'container:priv' }, lookup), /not shareable/);
});

test('/dev/shm follows the IPC mode', () => {
  const shm = { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['size=65536k'] };
  const proc = { destination: '/proc', type: 'proc', source: 'proc' };
  assert.deepEqual(applyShmMode([proc, shm], {}), [proc, shm]);
  assert.deepEqual(applyShmMode([proc, shm], { noShm: true }), [proc]);
  assert.deepEqual(applyShmMode([proc, shm], resolveSharedNamespaces({ IpcMode: 'container:web' }, lookup))[1],
    { destination: '/dev/shm', type: 'bind', source: '/c/a/shm', options: ['rbind', 'rprivate'] });
});
