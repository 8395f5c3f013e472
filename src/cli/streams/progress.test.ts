import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { renderProgress } from './progress.js';

const lines = [
  { status: 'Pulling from library/x', id: 'v1' },
  { status: 'Downloading', id: 'aaa', progressDetail: { current: 500, total: 1000 } },
  { status: 'Download complete', id: 'aaa' },
  { status: 'Digest: sha256:abc' },
].map((l) => `${JSON.stringify(l)}\r\n`).join('');

test('plain output: one line per message, no byte counters', async () => {
  let out = '';
  await renderProgress(Readable.from([lines]), { write: (t) => { out += t; }, isTTY: false });
  assert.equal(out, 'v1: Pulling from library/x\naaa: Download complete\nDigest: sha256:abc\n');
});

test('terminal output: a bar with bytes, redrawn in place on the layer line', async () => {
  let out = '';
  await renderProgress(Readable.from([lines]), { write: (t) => { out += t; }, isTTY: true, columns: 200 });
  assert.match(out, /aaa: Downloading \[=+>\s+\] 500B\/1kB/);
  assert.match(out, /\x1b\[1A\r\x1b\[2Kaaa: Download complete\x1b\[1B\r/);
});

test('an error in the stream fails with the daemon message and code', async () => {
  const bad = `${JSON.stringify({ errorDetail: { message: 'manifest unknown', code: 2 }, error: 'manifest unknown' })}\n`;
  await assert.rejects(renderProgress(Readable.from([bad]), { write: () => undefined, isTTY: false }),
    (err: unknown) => err instanceof Error && err.message === 'manifest unknown' && (err as { detail?: { code?: number } }).detail?.code === 2);
});
