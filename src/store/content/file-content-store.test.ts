import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { FileContentStore, writeBlob, writeBlobFromStream } from './file-content-store.js';
import { digestOf } from '../../oci/digest.js';
import { isBerthError } from '../../errors/berth-error.js';

async function withStore(fn: (store: FileContentStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-content-'));
  try {
    await fn(new FileContentStore(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('a blob is written, verified, read back and walked', () => withStore(async (store) => {
  const data = Buffer.from('{"hello":"world"}');
  const digest = digestOf(data);
  const info = await writeBlob(store, data, { digest, mediaType: 'application/json' });
  assert.equal(info.size, data.length);
  assert.equal((await store.info(digest)).mediaType, 'application/json');
  assert.deepEqual(await store.readBlob(digest, 1024), data);
  assert.equal(await text(await store.open(digest)), data.toString());
  const seen: string[] = [];
  await store.walk((i) => { seen.push(i.digest); });
  assert.deepEqual(seen, [digest]);
  await store.delete(digest);
  await assert.rejects(store.info(digest), (e: unknown) => isBerthError(e, 'not_found'));
}));

test('a wrong digest or a truncated blob is rejected and leaves nothing', () => withStore(async (store, root) => {
  const data = Buffer.from('payload');
  await assert.rejects(writeBlob(store, data, { digest: digestOf('other') }), /does not match its digest/);
  await assert.rejects(writeBlobFromStream(store, 'r', [data.subarray(0, 3)], { digest: digestOf(data), size: data.length }), /truncated/);
  await assert.rejects(writeBlobFromStream(store, 'r', [data, data], { digest: digestOf(data), size: data.length }), /larger than/);
  assert.deepEqual(await readdir(path.join(root, 'ingest')), []);
  await assert.rejects(store.info(digestOf(data)), /not found/);
}));

test('an interrupted ingest resumes from its offset', () => withStore(async (store) => {
  const data = Buffer.from('0123456789abcdef');
  const expected = { digest: digestOf(data), size: data.length };
  const first = await store.writer('pull-1', expected);
  await first.write(data.subarray(0, 6));
  await first.close();
  const second = await store.writer('pull-1', expected);
  assert.equal(second.offset, 6);
  await second.write(data.subarray(6));
  const info = await second.commit();
  assert.equal(info.digest, expected.digest);
  const again = await store.writer('pull-2', expected);
  assert.equal(again.offset, data.length, 'existing blob reports full offset');
}));

test('two writers on one ref conflict', () => withStore(async (store) => {
  const expected = { digest: digestOf('x'), size: 1 };
  const w = await store.writer('same', expected);
  await assert.rejects(store.writer('same', expected), (e: unknown) => isBerthError(e, 'conflict'));
  await w.abort();
}));

test('corruption on disk is detected on read', () => withStore(async (store) => {
  const data = Buffer.from('trust nobody');
  const digest = digestOf(data);
  await writeBlob(store, data, { digest });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(store.blobPath(digest), 'trust everybody');
  await assert.rejects(store.readBlob(digest, 100), /corrupt/);
  await assert.rejects(text(await store.open(digest)), /corrupt/);
}));

test('writeMany stores many chunks in order and still checks size and digest', () => withStore(async (store) => {
  const chunks = Array.from({ length: 1500 }, (_, i) => Buffer.from(`chunk ${i};`));
  const data = Buffer.concat(chunks);
  const digest = digestOf(data);
  const writer = await store.writer('many', { digest, size: data.length });
  await writer.write(chunks[0] ?? Buffer.alloc(0));
  await writer.writeMany?.(chunks.slice(1));
  await writer.commit();
  assert.deepEqual(await store.readBlob(digest, data.length), data, 'more chunks than IOV_MAX arrive whole and in order');
  const small = await store.writer('too-much', { digest: digestOf('ab'), size: 2 });
  await assert.rejects(small.writeMany?.([Buffer.from('ab'), Buffer.from('c')]) ?? Promise.reject(new Error('no writeMany')),
    (err: unknown) => isBerthError(err, 'invalid_argument') && /larger than its expected 2 bytes/.test(err.message));
}));
