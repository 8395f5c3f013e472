import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '../../errors/berth-error.js';
import type { Digest } from '../../oci/digest.js';
import { canReadBlobsSync, openBlobSync } from './blob-reader-sync.js';

// `printf 'hello berth %.0s' $(seq 1 50) | zstd -c`
const HELLO_ZST = Buffer.from('28b52ffd04589d00006068656c6c6f206265727468200100495e95248f09a476', 'hex');
const HELLO = 'hello berth '.repeat(50);

const sha256 = (data: Uint8Array): Digest => `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;

function withBlob(data: Buffer, fn: (file: string, digest: Digest) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-blob-reader-'));
  try {
    const file = path.join(dir, 'blob');
    writeFileSync(file, data);
    fn(file, sha256(data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every chunk copied at once: the reader reuses its buffer, a chunk kept past next() would change. */
function readAll(file: string, digest: Digest): { data: Buffer; diffId: Digest; chunks: number } {
  const reader = openBlobSync(file, digest, 'layer test');
  try {
    const parts: Buffer[] = [];
    for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) parts.push(Buffer.from(chunk));
    return { data: Buffer.concat(parts), diffId: reader.finish(), chunks: parts.length };
  } finally {
    reader.close();
  }
}

test('this node has the zlib handle the synchronous gunzip drives', () => {
  assert.equal(canReadBlobsSync(), true);
});

test('gzip (several members, output of many chunks), zstd and plain blobs read back with their diff IDs', () => {
  const big = Buffer.concat([randomBytes(700_000), Buffer.alloc(900_000, 7)]);
  const twoMembers = Buffer.concat([gzipSync(big), gzipSync(Buffer.from(HELLO))]);
  withBlob(twoMembers, (file, digest) => {
    const { data, diffId, chunks } = readAll(file, digest);
    assert.ok(data.equals(Buffer.concat([big, Buffer.from(HELLO)])));
    assert.equal(diffId, sha256(data));
    assert.ok(chunks > 10, 'the output came in buffer-sized chunks');
  });
  withBlob(HELLO_ZST, (file, digest) => assert.equal(readAll(file, digest).data.toString(), HELLO));
  withBlob(Buffer.from(HELLO), (file, digest) => assert.equal(readAll(file, digest).diffId, sha256(Buffer.from(HELLO))));
});

test('corrupt and truncated gzip are rejected naming the layer; a blob whose bytes changed is reported corrupt', () => {
  const gz = gzipSync(randomBytes(300_000));
  const corrupt = Buffer.from(gz);
  corrupt[3] = 0xff; // reserved flag bits
  withBlob(corrupt, (file, digest) => assert.throws(() => readAll(file, digest),
    (err: unknown) => isBerthError(err, 'invalid_argument') && err.code === 'BAD_LAYER_COMPRESSION' && err.message.startsWith('layer test: gzip data is corrupt')));
  withBlob(gz.subarray(0, gz.length - 100), (file, digest) => assert.throws(() => readAll(file, digest),
    (err: unknown) => isBerthError(err, 'invalid_argument') && /unexpected end of file/.test(err.message)));
  withBlob(gz, (file) => assert.throws(() => readAll(file, sha256(Buffer.from('other'))),
    (err: unknown) => isBerthError(err, 'internal') && err.code === 'BLOB_CORRUPT'));
});

test('bytes after the gzip stream end it and still count for the blob digest', () => {
  const blob = Buffer.concat([gzipSync(Buffer.from(HELLO)), Buffer.alloc(1000)]);
  withBlob(blob, (file, digest) => assert.equal(readAll(file, digest).data.toString(), HELLO));
});

test('a zstd frame declaring a huge window is refused', () => {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0, 0]);
  withBlob(header, (file, digest) => assert.throws(() => openBlobSync(file, digest, 'layer big').next(),
    (err: unknown) => isBerthError(err, 'invalid_argument') && /window of 1073741824 bytes/.test(err.message)));
});
