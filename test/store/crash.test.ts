// kill -9 in the middle of an ingest: the store still opens, the blob is absent (never
// half-visible), and a new writer resumes from the bytes already on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileContentStore } from '../../src/store/content/file-content-store.js';
import { digestOf } from '../../src/oci/digest.js';
import { isBerthError } from '../../src/errors/berth-error.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');

test('an ingest killed with SIGKILL resumes in a new process', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-crash-'));
  try {
    const blob = Buffer.alloc(1 << 20, 0x61);
    const digest = digestOf(blob);
    const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []),
      path.join(here, 'support', `ingest-child.${fromSource ? 'ts' : 'js'}`), root, digest, String(blob.length)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('half')) resolve(); });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const store = new FileContentStore(root);
    await assert.rejects(store.info(digest), (e: unknown) => isBerthError(e, 'not_found'), 'never half-visible');
    const writer = await store.writer('crash-ref', { digest, size: blob.length });
    assert.equal(writer.offset, blob.length / 2, 'resumes after the bytes on disk');
    await writer.write(blob.subarray(writer.offset));
    await writer.commit();
    assert.deepEqual(await store.readBlob(digest, blob.length), blob);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
