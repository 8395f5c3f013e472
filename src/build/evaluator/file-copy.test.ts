import test from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { checksumTree } from './file-copy.js';
import { checksumFromIndex, indexTarBuffer } from '../context/tar-digest.js';

test('a COPY source sums the same from the received index as from the extracted tree', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-file-copy-'));
  const files: Record<string, string> = {
    'tree/a.txt': 'a', 'tree/B.txt': 'B', 'tree/sub/deeper/c.bin': 'c'.repeat(70_000), 'tree/sub/skip.log': 'x', 'tree/z-last': '',
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  await chmod(path.join(dir, 'tree/a.txt'), 0o600);
  await chmod(path.join(dir, 'tree/sub'), 0o750);
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ cwd: dir, portable: true }, ['tree'])) chunks.push(chunk as Buffer);
  const skip = (rel: string): boolean => rel.endsWith('.log');
  const fromIndexFiles = new Map<string, string>();
  const fromIndex = checksumFromIndex(indexTarBuffer(Buffer.concat(chunks)), 'tree', skip, fromIndexFiles);
  const onDiskFiles = new Map<string, string>();
  const onDisk = await checksumTree(path.join(dir, 'tree'), 'tree', skip, onDiskFiles);
  assert.equal(fromIndex?.digest, onDisk);
  assert.deepEqual([...fromIndexFiles].sort(), [...onDiskFiles].sort());
  assert.equal(onDiskFiles.has('tree/sub/skip.log'), false);
  await rm(dir, { recursive: true, force: true });
});
