import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletedList, imagePruneLines, printPruneReport } from './prune-report.js';
import type { CliContext } from './context.js';

function capture(): { ctx: CliContext; text: () => string } {
  let written = '';
  const ctx = { out: (s: string) => { written += s; } } as unknown as CliContext; // only out() is used
  return { ctx, text: () => written };
}

test('a prune that removed things prints the list, an empty line and the total, as docker does', () => {
  const { ctx, text } = capture();
  printPruneReport(ctx, 'Deleted Containers', ['a1', 'b2'], 2048);
  assert.equal(text(), 'Deleted Containers:\na1\nb2\n\nTotal reclaimed space: 2.048kB\n');
});

test('a prune that removed nothing prints only the total; networks print no total', () => {
  const empty = capture();
  printPruneReport(empty.ctx, 'Deleted Volumes', [], 0);
  assert.equal(empty.text(), 'Total reclaimed space: 0B\n');
  const networks = capture();
  printPruneReport(networks.ctx, 'Deleted Networks', ['n1']);
  assert.equal(networks.text(), 'Deleted Networks:\nn1\n');
  assert.equal(deletedList('Deleted Networks', []), '');
});

test('image prune entries say untagged or deleted', () => {
  assert.deepEqual(imagePruneLines([{ Untagged: 'x:latest' }, { Deleted: 'sha256:ab' }]), ['untagged: x:latest', 'deleted: sha256:ab']);
});
