import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../errors/berth-error.js';
import { filterContainers, listJson, statusText } from './queries.js';
import { initialState, runningState, type ContainerRecord } from './record.js';
import type { HealthState } from './health/state.js';

function container(id: string, health: HealthState | undefined, running = true): ContainerRecord {
  const state = running ? runningState(initialState(), 42) : initialState();
  return {
    Id: id.padEnd(64, '0'), Created: new Date().toISOString(), Path: 'sleep', Args: ['60'], Name: `/${id}`, Image: 'sha256:abc',
    Config: { Image: 'busybox' }, HostConfig: {}, State: health ? { ...state, Health: health } : state, RestartCount: 0,
    ManuallyStopped: false, Runtime: 'berth', CgroupsPath: '/berth/x', ExecIDs: [],
  };
}

const healthy: HealthState = { Status: 'healthy', FailingStreak: 0, Log: [] };
const starting: HealthState = { Status: 'starting', FailingStreak: 1, Log: [] };

test('ps status: health in parentheses after "Up ..."', () => {
  assert.match(statusText(container('a', healthy), Date.now()), /^Up .* \(healthy\)$/);
  assert.match(statusText(container('b', starting), Date.now()), /\(health: starting\)$/);
  assert.match(statusText(container('c', undefined), Date.now()), /^Up [^(]*$/);
});

test('health filter: by status, none for containers without a check; unknown values refused', () => {
  const records = [container('a', healthy), container('b', starting), container('c', undefined)];
  const pick = (value: string): string[] => filterContainers(records, {
    all: true, filters: new Map([['health', [value]]]), resolve: () => { throw new Error('unused'); }, ancestorIds: () => undefined,
  }).map((r) => r.Name);
  assert.deepEqual(pick('healthy'), ['/a']);
  assert.deepEqual(pick('starting'), ['/b']);
  assert.deepEqual(pick('none'), ['/c']);
  assert.deepEqual(pick('unhealthy'), []);
  assert.throws(() => pick('sick'), (err) => isBerthError(err, 'invalid_argument') && /health: sick/.test(err.message));
});

test('list summary Health: the status while running, none otherwise', () => {
  assert.deepEqual(listJson(container('a', starting), undefined).Health, { Status: 'starting', FailingStreak: 1 });
  assert.deepEqual(listJson(container('b', healthy, false), undefined).Health, { Status: 'none', FailingStreak: 0 });
  assert.deepEqual(listJson(container('c', undefined), undefined).Health, { Status: 'none', FailingStreak: 0 });
});
