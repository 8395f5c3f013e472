import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { removeTree } from './remove-tree.js';

test('removeTree removes files, subdirectories and symlinks without following them; a missing path is fine', async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'berth-remove-tree-'));
  try {
    const outside = path.join(base, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'keep'), 'x');
    const tree = path.join(base, 'tree');
    mkdirSync(path.join(tree, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(tree, 'state.json'), '{}');
    writeFileSync(path.join(tree, 'a', 'b', 'deep'), 'y');
    symlinkSync(outside, path.join(tree, 'link-to-dir'));
    symlinkSync(path.join(base, 'nowhere'), path.join(tree, 'dangling'));
    await removeTree(tree);
    assert.equal(existsSync(tree), false);
    assert.equal(existsSync(path.join(outside, 'keep')), true);
    await removeTree(tree);
    // a file given where a directory was expected is removed too
    writeFileSync(path.join(base, 'file'), 'z');
    await removeTree(path.join(base, 'file'));
    assert.equal(existsSync(path.join(base, 'file')), false);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
