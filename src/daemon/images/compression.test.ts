import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '../../errors/berth-error.js';
import { checkZstdWindow, unzstd } from './compression.js';
import { decompressSniffed } from './layers.js';

// `printf 'hello berth %.0s' $(seq 1 50) | zstd -c`: 600 bytes in one frame with a checksum
const HELLO_ZST = Buffer.from('28b52ffd04589d00006068656c6c6f206265727468200100495e95248f09a476', 'hex');
const HELLO = 'hello berth '.repeat(50);

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

test('unzstd decodes a frame fed in tiny pieces', async () => {
  assert.equal(await collect(unzstd(pieces(HELLO_ZST, 3), 'layer x')), HELLO);
});

test('decompressSniffed recognises zstd, gzip and plain data by their magic bytes', async () => {
  assert.equal(await collect(decompressSniffed(pieces(HELLO_ZST, 7), 'layer z')), HELLO);
  assert.equal(await collect(decompressSniffed(pieces(gzipSync(HELLO), 5), 'layer g')), HELLO);
  assert.equal(await collect(decompressSniffed(pieces(Buffer.from(HELLO), 64), 'layer p')), HELLO);
});

// fzstd does not check the frame checksum; a layer's diff ID (checked on unpack) catches bit flips
test('a truncated zstd frame is rejected naming the layer', async () => {
  const truncated = HELLO_ZST.subarray(0, HELLO_ZST.length - 10);
  await assert.rejects(collect(unzstd(pieces(truncated, 16), 'layer sha256:abc')),
    (err: unknown) => isBerthError(err, 'invalid_argument') && err.message.includes('layer sha256:abc') && err.message.includes('zstd'));
});

test('a frame declaring a 1 GiB window is refused before the decoder allocates it', () => {
  // magic, descriptor 0 (window descriptor present), window byte: exponent 20 -> 2^30
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0, 0]);
  assert.throws(() => checkZstdWindow(header, 'layer sha256:big'),
    (err: unknown) => isBerthError(err, 'invalid_argument') && /window of 1073741824 bytes/.test(err.message) && err.message.includes('sha256:big'));
  assert.doesNotThrow(() => checkZstdWindow(HELLO_ZST, 'layer ok'));
});
