// scripts/leak-check, the suite-wide leak check CI runs after the tests: it names the network
// leftovers (a bridge, an nft table) and a temp dir that appeared after its snapshot, not what
// was there before it, and it waits for items the kernel is still removing before it fails.
// LEAK_CHECK_ONLY keeps the comparisons to this test's token (other runs may share the host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requires } from '../support/requirements.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';
import { token } from './support.js';

const LEAK_CHECK = path.join(REPO_ROOT, 'scripts/leak-check');

interface Result { code: number; stdout: string; stderr: string }

async function leakCheck(args: string[], env: Record<string, string>): Promise<Result> {
  return await new Promise((resolve) => {
    execFile(LEAK_CHECK, args, { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function ignore(file: string, args: string[]): void {
  try { execFileSync(file, args, { stdio: 'ignore' }); } catch { /* already gone */ }
}

test('leak-check names what appeared after its snapshot, not what was there, and waits for removals', { skip: requires('root'), timeout: 60_000 }, async () => {
  const tok = `lk${token()}`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'leak-check-test-'));
  const [old, bridge, table, dir] = [`bbold${tok}`, `bbnew${tok}`, `berth-${tok}`, path.join(os.tmpdir(), `berth-${tok}`)];
  const removeAll = (): void => {
    ignore('ip', ['link', 'del', old]);
    ignore('ip', ['link', 'del', bridge]);
    ignore('nft', ['delete', 'table', 'inet', table]);
  };
  const env = { LEAK_CHECK_ONLY: tok, LEAK_CHECK_WAIT: '0' };
  try {
    execFileSync('ip', ['link', 'add', old, 'type', 'bridge']);
    const baseline = path.join(work, 'baseline');
    const snapshot = await leakCheck(['snapshot'], env);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    assert.match(snapshot.stdout, new RegExp(`^link: ${old}$`, 'm'), 'the snapshot lists berth links');
    await writeFile(baseline, snapshot.stdout);

    assert.equal((await leakCheck(['compare', baseline, 'nothing yet'], env)).code, 0);
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    execFileSync('nft', ['add', 'table', 'inet', table]);
    await mkdir(dir);
    const leaked = await leakCheck(['compare', baseline, 'the trial'], env);
    assert.equal(leaked.code, 1);
    assert.match(leaked.stderr, /3 item\(s\) left behind after the trial/);
    for (const item of [`link: ${bridge}`, `nft table: inet ${table}`, `dir: ${dir}`]) assert.ok(leaked.stderr.includes(`  ${item}\n`), item);
    assert.ok(!leaked.stderr.includes(old), 'what was there before the snapshot is not reported');

    // removed while the check waits: it passes
    const waiting = leakCheck(['compare', baseline, 'the removal'], { ...env, LEAK_CHECK_WAIT: '30' });
    await new Promise((r) => setTimeout(r, 1500));
    ignore('ip', ['link', 'del', bridge]);
    ignore('nft', ['delete', 'table', 'inet', table]);
    await rm(dir, { recursive: true, force: true });
    const passed = await waiting;
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /nothing left behind after the removal/);
  } finally {
    removeAll();
    await rm(dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
});
