// Used by bench/runtime and test/runtime/hugetlb.test.ts. crun 1.8 refuses a hybrid cgroup layout ("cgroups in hybrid mode not supported") while
// the empty cgroup2 at /sys/fs/cgroup/unified still offers a controller: on this kind of
// host that is hugetlb, which no v1 hierarchy has taken. Mounting hugetlb as a v1 hierarchy
// for the bench moves it out of cgroup2, so crun runs; everything is put back afterwards
// (only what the bench itself changed). A berth or dockerd started meanwhile learns of the
// hierarchy and keeps it in its list after the unmount: run this on a machine of your own.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
const MOUNT_POINT = path.join(CGROUP_ROOT, 'hugetlb');
const UNIFIED_CONTROL = path.join(CGROUP_ROOT, 'unified', 'cgroup.subtree_control');

function hugetlbV1Mounted(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .some((line) => / - cgroup \S+ \S*\bhugetlb\b/.test(line));
}

/** cgroup v1 hierarchies are mounted (legacy or hybrid layout): a v1 hugetlb fits in beside them */
export function v1Host(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => / - cgroup /.test(line));
}

/** the hierarchy id of hugetlb in /proc/cgroups (0: it belongs to cgroup2), undefined when absent */
function hugetlbHierarchy(): number | undefined {
  const line = readFileSync('/proc/cgroups', 'utf8').split('\n').find((l) => l.startsWith('hugetlb\t'));
  return line === undefined ? undefined : Number(line.split('\t')[1]);
}

function readSubtreeControl(): string {
  try {
    return readFileSync(UNIFIED_CONTROL, 'utf8');
  } catch {
    return '';
  }
}

function mount(): boolean {
  return spawnSync('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'berth-bench-hugetlb', MOUNT_POINT], { stdio: 'ignore' }).status === 0;
}

function unmount(): void {
  spawnSync('umount', [MOUNT_POINT], { stdio: 'ignore' });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Mount hugetlb as a cgroup v1 hierarchy if nothing has; returns how to undo it (undefined
 * when nothing was changed), or a note saying why it could not.
 */
export function mountHugetlbV1(): { undo?: () => Promise<void>; note?: string } {
  if (hugetlbV1Mounted() || hugetlbHierarchy() !== 0) return {};
  if (process.getuid?.() !== 0) return { note: 'not root' };
  if (!v1Host()) return { note: 'no cgroup v1 hierarchies here (unified host)' };
  // a controller enabled for cgroup2 children cannot move to a v1 hierarchy
  const wasEnabled = /\bhugetlb\b/.test(readSubtreeControl());
  const madeDir = !existsSync(MOUNT_POINT);
  try {
    if (wasEnabled) writeFileSync(UNIFIED_CONTROL, '-hugetlb');
    if (madeDir) mkdirSync(MOUNT_POINT);
    if (!mount()) throw new Error('mount -t cgroup -o hugetlb failed');
  } catch (err) {
    if (madeDir) rmdirSync(MOUNT_POINT);
    if (wasEnabled) writeFileSync(UNIFIED_CONTROL, '+hugetlb');
    return { note: err instanceof Error ? err.message : String(err) };
  }
  return { undo: async () => { await unmountHugetlbV1(madeDir, wasEnabled); } };
}

/** groups below the mount, deepest first */
function groupsBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())
    .flatMap((e) => [...groupsBelow(path.join(dir, e.name)), path.join(dir, e.name)]);
}

const hugetlbGroupCount = (): number => Number(/^hugetlb\t\d+\t(\d+)/m.exec(readFileSync('/proc/cgroups', 'utf8'))?.[1] ?? 1);

async function unmountHugetlbV1(madeDir: boolean, wasEnabled: boolean): Promise<void> {
  // Groups made while the hierarchy was mounted exist only because of it (berth's /berth
  // parent, a dockerd's /docker, other berth users' groups): wait for their owners, then
  // remove the empty ones. A group with processes keeps the hierarchy mounted (said so).
  for (let i = 0; i < 100 && groupsBelow(MOUNT_POINT).length > 0; i++) await sleep(20);
  for (const group of groupsBelow(MOUNT_POINT)) {
    try {
      if (readFileSync(path.join(group, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(group);
    } catch {
      // removed by its owner meanwhile, or not empty
    }
  }
  const busy = groupsBelow(MOUNT_POINT);
  if (busy.length > 0) {
    process.stderr.write(`hugetlb stays mounted at ${MOUNT_POINT}: groups with processes: ${busy.join(', ')}\n`);
    return;
  }
  // a v1 hierarchy is released only once its removed groups are freed: until then an
  // unmount leaves it alive but invisible, so wait for that first (and retry once after)
  for (let i = 0; i < 100 && hugetlbGroupCount() > 1; i++) await sleep(20);
  unmount();
  for (let i = 0; i < 50 && hugetlbHierarchy() !== 0; i++) await sleep(20);
  if (hugetlbHierarchy() !== 0 && mount()) {
    unmount();
    for (let i = 0; i < 50 && hugetlbHierarchy() !== 0; i++) await sleep(20);
  }
  try {
    if (madeDir) rmdirSync(MOUNT_POINT);
    if (wasEnabled) writeFileSync(UNIFIED_CONTROL, '+hugetlb');
  } catch (err) {
    process.stderr.write(`could not give hugetlb back to cgroup2: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
