import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JsonFileWriter, parseLogOptions } from './json-file.js';
import { readLogs } from './read-logs.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-logs-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('lines are split, stamped and kept per stream', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'c-json.log');
    const writer = await JsonFileWriter.open(file, { maxSize: 1 << 20, maxFiles: 2 });
    writer.write('stdout', Buffer.from('hel'));
    writer.write('stderr', Buffer.from('oops\n'));
    writer.write('stdout', Buffer.from('lo\nworld'));
    await writer.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
    assert.deepEqual(lines.map((l) => [l.stream, l.log]), [['stderr', 'oops\n'], ['stdout', 'hello\n'], ['stdout', 'world']]);
    assert.match(lines[0]?.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const reader = await readLogs(file, { stdout: true, stderr: false, follow: false, maxFiles: 2, tail: 1 }, undefined);
    assert.deepEqual(reader.past.map((e) => e.log), ['world']);
  });
});

test('rotation keeps max-file files and follow sees every later line once', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'c-json.log');
    const writer = await JsonFileWriter.open(file, parseLogOptions({ 'max-size': '1k', 'max-file': '3' }));
    for (let i = 0; i < 200; i++) writer.write('stdout', Buffer.from(`line ${i}\n`));
    const seen: string[] = [];
    const reader = await readLogs(file, { stdout: true, stderr: true, follow: true, maxFiles: 3 }, writer);
    const stop = reader.live((e) => seen.push(e.log));
    for (let i = 200; i < 210; i++) writer.write('stdout', Buffer.from(`line ${i}\n`));
    await writer.close();
    stop();
    assert.deepEqual((await readdir(dir)).sort(), ['c-json.log', 'c-json.log.1', 'c-json.log.2']);
    const all = [...reader.past.map((e) => e.log), ...seen];
    assert.equal(all.at(-1), 'line 209\n');
    assert.equal(new Set(all).size, all.length, 'no line twice');
    const numbers = all.map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(numbers, numbers.slice().sort((a, b) => a - b));
    assert.throws(() => parseLogOptions({ 'max-size': 'lots' }), /invalid max-size/);
  });
});

test('lines written while a follower reads the file arrive exactly once', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'c-json.log');
    const writer = await JsonFileWriter.open(file, { maxSize: 1 << 20, maxFiles: 1 });
    for (let i = 0; i < 50; i++) writer.write('stdout', Buffer.from(`early ${i}\n`));
    const pending = readLogs(file, { stdout: true, stderr: true, follow: true, maxFiles: 1 }, writer);
    for (let i = 0; i < 50; i++) writer.write('stdout', Buffer.from(`racing ${i}\n`));
    const reader = await pending;
    const seen: string[] = [];
    const stop = reader.live((e) => seen.push(e.log));
    await writer.close();
    stop();
    const all = [...reader.past.map((e) => e.log), ...seen];
    assert.equal(all.length, 100);
    assert.equal(new Set(all).size, 100);
  });
});
