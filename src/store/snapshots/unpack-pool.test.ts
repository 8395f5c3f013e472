import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BerthError, isBerthError } from '../../errors/berth-error.js';
import type { Digest } from '../../oci/digest.js';
import { writeTar, type TarWriteEntry } from '../archive/tar-writer.js';
import { applyLayer } from './apply-layer.js';
import { UnpackPool } from './unpack-pool.js';

const sha256 = (data: Uint8Array): Digest => `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
const file = (name: string, data: string): TarWriteEntry =>
  ({ header: { name, type: 'file', mode: 0o644, size: Buffer.byteLength(data), mtime: 1600000000 }, body: Buffer.from(data) });

async function tarBytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of writeTar(entries)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

test('layers unpacked on worker threads: files written, diff IDs returned, errors the same BerthError as in-thread', async () => {
  const base = mkdtempSync(path.join(tmpdir(), 'berth-unpack-pool-'));
  const pool = new UnpackPool(1); // one thread: the second and third task wait in the queue
  try {
    const good = await tarBytes([file('etc/hostname', 'berth\n'), file('srv/a', 'a')]);
    const hostile = await tarBytes([file('ok', 'x'), file('../escape', 'x')]);
    const blobs = [good, hostile, good].map((tar, i) => {
      const blobFile = path.join(base, `blob${i}`);
      writeFileSync(blobFile, gzipSync(tar));
      const root = path.join(base, `root${i}`);
      mkdirSync(root);
      return { blobFile, blobDigest: sha256(readFileSync(blobFile)), root, whiteouts: 'remove' as const, allowDevices: false };
    });
    const [first, second, third] = await Promise.allSettled(blobs.map((task) => pool.run(task)));
    assert.equal(first?.status === 'fulfilled' && first.value.diffId, sha256(good));
    assert.equal(third?.status === 'fulfilled' && third.value.entries, 2);
    assert.equal(readFileSync(path.join(base, 'root0/etc/hostname'), 'utf8'), 'berth\n');
    assert.equal(second?.status, 'rejected');
    const inThread = await applyLayer(path.join(base, 'root1'), (async function* () { yield hostile; })(), { whiteouts: 'remove' }).catch((err: unknown) => err);
    const fromWorker = second?.status === 'rejected' ? second.reason : undefined;
    assert.ok(isBerthError(fromWorker) && inThread instanceof BerthError);
    assert.deepEqual([fromWorker.kind, fromWorker.code, fromWorker.message], [inThread.kind, inThread.code, inThread.message]);
    assert.match(fromWorker.message, /"\.\.\/escape"/);
    assert.deepEqual(readdirSync(base).filter((n) => n === 'escape'), [], 'nothing written outside the root');
  } finally {
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  }
});
