import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { oomKillCount, watchOom } from './oom-watch.js';

const events = (oomKill: number, max = 0): string => `low 0\nhigh 0\nmax ${max}\noom ${oomKill}\noom_kill ${oomKill}\noom_group_kill 0\n`;

test('oomKillCount reads the counter of memory.events and memory.oom_control', () => {
  assert.equal(oomKillCount(events(3)), 3);
  assert.equal(oomKillCount('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), 2);
  assert.equal(oomKillCount('oom_kill_disable 0\nunder_oom 0\n'), 0);
});

test('v2: an oom_kill above the last one seen is reported when memory.events changes, other changes are not', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-oom-watch-'));
  const file = path.join(dir, 'memory.events');
  await writeFile(file, events(1));
  const reports: number[] = [];
  let notify: (() => void) | undefined;
  const watch = await watchOom({ version: 2, memoryDir: dir }, () => { reports.push(Date.now()); notify?.(); });
  try {
    const next = (): Promise<void> => new Promise((resolve) => { notify = resolve; });
    // a kill already counted when the watch began is not news
    assert.equal(reports.length, 0);
    let reported = next();
    await writeFile(file, events(1, 5));
    await writeFile(file, events(2, 5));
    await reported;
    assert.equal(reports.length, 1);
    reported = next();
    await writeFile(file, events(4, 6));
    await reported;
    assert.equal(reports.length, 2);
    assert.equal(await watch.killCount(), 4, 'the counter now, as the exit path reads it');
  } finally {
    await watch.close();
  }
  await writeFile(file, events(9));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(reports.length, 2, 'nothing reported after close');
  await rm(dir, { recursive: true, force: true });
});
