import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageConfig } from '../../oci/image.js';
import { parseDigest, type Digest } from '../../oci/digest.js';
import { isValidParent, layerOfHistoryEntry, matchCacheSource, restoredConfig } from './cache-from.js';

const digest = (n: number): Digest => parseDigest(`sha256:${String(n).repeat(64).slice(0, 64)}`);

function image(history: Array<{ by: string; empty?: boolean }>): ImageConfig {
  let layer = 0;
  const diffIds = history.filter((h) => !h.empty).map(() => digest(++layer));
  return {
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds },
    history: history.map((h) => ({ created: '2020-01-01T00:00:00Z', created_by: h.by, ...(h.empty ? { empty_layer: true } : {}) })),
  };
}

const base = image([{ by: 'base' }]);
const source = image([{ by: 'base' }, { by: 'ENV', empty: true }, { by: 'RUN a' }, { by: 'CMD', empty: true }]);

test('a source continues a parent whose history and layers are its prefix', () => {
  assert.equal(isValidParent(source, base), true);
  assert.equal(isValidParent(source, undefined), true);
  assert.equal(isValidParent(source, image([{ by: 'other base' }])), false, 'different history');
  const otherLayer = structuredClone(base);
  otherLayer.rootfs.diff_ids = [digest(9)];
  assert.equal(isValidParent(source, otherLayer), false, 'different layer');
  assert.equal(isValidParent(base, source), false, 'a parent longer than the source');
});

test('the match is the entry after the parent with the same command; the last entry is the source itself', () => {
  const sources = [{ id: 'sha256:s', config: source }];
  assert.deepEqual(matchCacheSource(base, 'ENV', sources), { source: sources[0], index: 1, last: false });
  assert.equal(matchCacheSource(base, 'RUN b', sources), undefined);
  const parent = image([{ by: 'base' }, { by: 'ENV', empty: true }, { by: 'RUN a' }]);
  assert.equal(matchCacheSource(parent, 'CMD', sources)?.last, true);
});

test('a restored step has the parent plus the one entry and its layer', () => {
  assert.equal(layerOfHistoryEntry(source, 1), undefined);
  assert.equal(layerOfHistoryEntry(source, 2), digest(2));
  const parent = image([{ by: 'base' }, { by: 'ENV', empty: true }]);
  const restored = restoredConfig(parent, { Env: ['A=1'] }, { source: { id: 'sha256:s', config: source }, index: 2, last: false });
  assert.deepEqual(restored.rootfs.diff_ids, [digest(1), digest(2)]);
  assert.deepEqual(restored.history?.map((h) => h.created_by), ['base', 'ENV', 'RUN a']);
  assert.deepEqual(restored.config, { Env: ['A=1'] });
});
