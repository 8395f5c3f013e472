import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, matchesEvent } from './event-bus.js';

test('subscribers get matching live events and past ones since a time', () => {
  const bus = new EventBus();
  const first = bus.publish('container', 'create', 'abc123', { name: 'web', image: 'busybox' });
  bus.publish('image', 'tag', 'sha256:1', { name: 'busybox:latest' });
  const seen: string[] = [];
  const sub = bus.subscribe(new Map([['type', ['container']]]), first.timeNano, (e) => seen.push(e.Action));
  assert.deepEqual(sub.past.map((e) => e.Action), ['create']);
  bus.publish('container', 'start', 'abc123', { name: 'web' });
  bus.publish('network', 'connect', 'n1');
  sub.close();
  bus.publish('container', 'die', 'abc123');
  assert.deepEqual(seen, ['start']);
  assert.equal(first.status, 'create');
  assert.equal(first.from, 'busybox');
});

test('filters by container name, label and event', () => {
  const bus = new EventBus();
  const event = bus.publish('container', 'exec_start: sh', 'abc', { name: 'web', tier: 'front' });
  assert.ok(matchesEvent(event, new Map([['container', ['web']], ['event', ['exec_start']]])));
  assert.ok(matchesEvent(event, new Map([['label', ['tier=front']]])));
  assert.ok(!matchesEvent(event, new Map([['label', ['tier=back']]])));
  assert.ok(!matchesEvent(event, new Map([['container', ['db']]])));
});

test('events a follower derives from one reach subscribers after it', () => {
  const bus = new EventBus();
  bus.follow((e) => { if (e.Type === 'container' && e.Action === 'die') bus.publish('volume', 'unmount', 'v1', { container: e.Actor.ID }); });
  const seen: string[] = [];
  // subscribed after the follower: still sees die first
  bus.subscribe(new Map(), undefined, (e) => seen.push(`${e.Type} ${e.Action}`));
  bus.publish('container', 'die', 'abc');
  bus.publish('container', 'destroy', 'abc');
  assert.deepEqual(seen, ['container die', 'volume unmount', 'container destroy']);
});
