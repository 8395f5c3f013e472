import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, symlink, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTar, type TarHeader } from '../../src/store/archive/tar-reader.js';
import { writeTar, type TarWriteEntry } from '../../src/store/archive/tar-writer.js';

async function collect(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Array<{ header: TarHeader; data: string }>> {
  const out: Array<{ header: TarHeader; data: string }> = [];
  for await (const entry of readTar(source)) {
    const chunks: Buffer[] = [];
    for await (const c of entry.body()) chunks.push(c);
    out.push({ header: entry.header, data: Buffer.concat(chunks).toString() });
  }
  return out;
}

async function bytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of writeTar(entries)) chunks.push(c);
  return Buffer.concat(chunks);
}

const longName = 'deep/' + 'x'.repeat(120) + '/' + 'y'.repeat(120) + '/file.txt';

test('GNU tar reads our archives and we read GNU tar archives', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-tar-'));
  try {
    const tar = await bytes([{ header: { name: longName, type: 'file', mode: 0o644, size: 3 }, body: Buffer.from('abc') }]);
    await writeFile(path.join(dir, 'ours.tar'), tar);
    const listed = spawnSync('tar', ['-tf', path.join(dir, 'ours.tar')], { encoding: 'utf8' });
    assert.equal(listed.stdout.trim(), longName);
    await mkdir(path.join(dir, 'src', 'sub'), { recursive: true });
    await writeFile(path.join(dir, 'src', 'sub', 'x'.repeat(130)), 'gnu');
    await symlink('sub', path.join(dir, 'src', 'ln'));
    for (const format of ['gnu', 'posix', 'ustar']) {
      const made = spawnSync('tar', ['--format', format, '-C', path.join(dir, 'src'), '-cf', '-', 'sub', 'ln'], { maxBuffer: 1 << 24 });
      const names = (await collect([made.stdout])).map((e) => `${e.header.type}:${e.header.name}:${e.data}`);
      if (format === 'ustar') continue; // ustar cannot hold a 130-byte basename
      assert.deepEqual(names.sort(), ['dir:sub/:', `file:sub/${'x'.repeat(130)}:gnu`, 'symlink:ln:'], format);
    }
    assert.equal((await readFile(path.join(dir, 'ours.tar'))).length % 512, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

