// Opaque directories with overlay mounted by host root (trusted.overlay.*) and inside a user
// namespace (userxattr: user.overlay.*, as a rootless berthd mounts it): a layer's opaque dir
// hides what is below it, a directory removed and made again in a root hides the image's
// files, and the diff records both as `.wh..wh..opq`. The snapshotter runs in a child
// (fixtures/overlay-opaque.ts), in the user namespace for the second case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requires } from '../support/requirements.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';

const run = promisify(execFile);
const skip = requires('root', 'overlay');

interface FixtureResult { etc: string[]; usrBin: string[]; usr: string[]; layerXattrs: string[]; upperXattrs: string[]; diff: string[] }

/** node running the fixture (from source through tsx, or compiled in dist) */
function fixtureCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const fixture = path.join(path.dirname(here), 'fixtures', `overlay-opaque${path.extname(here)}`);
  return here.endsWith('.ts') ? [process.execPath, '--import', 'tsx', fixture] : [process.execPath, fixture];
}

async function runFixture(wrapper: readonly string[]): Promise<FixtureResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-opaque-'));
  try {
    const argv = [...wrapper, ...fixtureCommand(), path.join(dir, 'overlay')];
    const { stdout } = await run(argv[0] ?? process.execPath, argv.slice(1), { cwd: REPO_ROOT });
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(dir), 'the fixture left no mount');
    return JSON.parse(stdout) as FixtureResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function checkOpaque(result: FixtureResult, xattr: string): void {
  assert.deepEqual(result.etc, ['new'], 'the layer\'s opaque /etc hides /etc/old');
  assert.deepEqual(result.usrBin, [], 'the whiteout hides /usr/bin/tool');
  assert.deepEqual(result.usr, ['x'], 'the remade /usr shows only what was made in it');
  assert.ok(result.layerXattrs.includes(xattr), `layer dir marked with ${xattr}: ${result.layerXattrs.join(',')}`);
  assert.ok(result.upperXattrs.includes(xattr), `upper dir marked with ${xattr}: ${result.upperXattrs.join(',')}`);
  assert.ok(result.diff.includes('usr/.wh..wh..opq'), `diff: ${result.diff.join(' ')}`);
  assert.ok(result.diff.includes('usr/x'));
  assert.ok(!result.diff.some((name) => name.startsWith('usr/bin')), 'nothing below the opaque dir is recorded');
}

test('opaque dirs with overlay mounted by host root: trusted.overlay.opaque', { skip }, async () => {
  checkOpaque(await runFixture([]), 'trusted.overlay.opaque');
});

test('opaque dirs with overlay mounted in a user namespace (userxattr): user.overlay.opaque', { skip }, async () => {
  checkOpaque(await runFixture(['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private']), 'user.overlay.opaque');
});
