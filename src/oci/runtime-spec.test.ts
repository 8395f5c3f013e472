import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRuntimeSpec, parseProcessSpec } from './runtime-spec.js';
import { BerthError } from '../errors/berth-error.js';

const minimal = {
  ociVersion: '1.0.2',
  process: { user: { uid: 0, gid: 0 }, args: ['/bin/true'], cwd: '/' },
  root: { path: 'rootfs' },
  linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }], resources: { memory: { limit: 1048576 } } },
};

test('a minimal config parses and keeps its fields', () => {
  const spec = parseRuntimeSpec(minimal);
  assert.equal(spec.process?.args?.[0], '/bin/true');
  assert.equal(spec.linux?.resources?.memory?.limit, 1048576);
});

test('unknown fields are ignored, as the spec requires', () => {
  const spec = parseRuntimeSpec({ ...minimal, vendorThing: { a: 1 } });
  assert.equal(spec.ociVersion, '1.0.2');
});

test('a wrong field is named by its path', () => {
  const bad = { ...minimal, linux: { namespaces: [{ type: 'pid' }, { type: 'bogus' }] } };
  assert.throws(() => parseRuntimeSpec(bad), (err: unknown) =>
    err instanceof BerthError && err.kind === 'invalid_argument' && err.message.includes('linux.namespaces.1.type'));
});

test('a relative cwd and a non-1.x version are rejected', () => {
  assert.throws(() => parseRuntimeSpec({ ...minimal, ociVersion: '2.0.0' }), /ociVersion/);
  assert.throws(() => parseProcessSpec({ user: { uid: 0, gid: 0 }, args: ['x'], cwd: 'tmp' }, 'p.json'), /p\.json: cwd/);
});

test('seccomp operators and actions are checked', () => {
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] };
  assert.throws(() => parseRuntimeSpec({ ...minimal, linux: { seccomp } }), /linux\.seccomp\.syscalls\.0\.action/);
});
