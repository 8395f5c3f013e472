// Compiled seccomp programs installed for real by a tiny C loader (built here with gcc):
// a denied syscall fails with the configured errno, everything else keeps working.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { LinuxSeccomp } from '../../src/oci/runtime-spec.js';
import { defaultSeccompProfile } from '../../src/oci/seccomp-default.js';
import { syscallNumber } from '../../src/runtime/seccomp/arch.js';
import { compileSeccomp } from '../../src/runtime/seccomp/compile.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';

const skip = process.arch !== 'x64' && process.arch !== 'arm64' ? 'requires x86_64 or aarch64'
  : !hasGcc() ? 'requires gcc' : false;
let work = '';
let loader = '';

function hasGcc(): boolean {
  return spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

before(() => {
  if (skip) return;
  work = mkdtempSync(path.join(tmpdir(), 'berth-seccomp-test-'));
  loader = path.join(work, 'loader');
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O1', '-o', loader, path.join(REPO_ROOT, 'test/seccomp/loader.c')]);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let counter = 0;
function writeProgram(spec: LinuxSeccomp): string {
  const file = path.join(work, `filter-${counter++}.bpf`);
  writeFileSync(file, compileSeccomp(spec));
  return file;
}

function execUnder(program: string, argv: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(loader, [program, 'exec', ...argv], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

/** syscall(nr, args...) under the filter: [return value, errno] */
function callUnder(program: string, name: string, args: number[] = []): [number, number] {
  const nr = syscallNumber(process.arch === 'x64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64', name);
  assert.notEqual(nr, undefined, name);
  const out = execFileSync(loader, [program, 'call', String(nr), ...args.map(String)], { encoding: 'utf8' }).trim().split(' ');
  return [Number(out[0]), Number(out[1])];
}

test('a denied mkdir fails with EPERM while other syscalls work', { skip }, () => {
  const program = writeProgram({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
  const target = path.join(work, 'denied-dir');
  const denied = execUnder(program, ['/bin/busybox', 'mkdir', target]);
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /Operation not permitted/);
  assert.equal(existsSync(target), false);
  const file = path.join(work, 'allowed-file');
  assert.equal(execUnder(program, ['/bin/busybox', 'touch', file]).status, 0);
  assert.equal(existsSync(file), true);
});

test('the configured errno comes back, and argument rules decide per call', { skip }, () => {
  const program = writeProgram({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      // kill(pid, sig): only signal 0 allowed, the rest EPERM
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 1, op: 'SCMP_CMP_NE', value: 0 }] },
      // personality(0xffffffff) (a query) allowed, other personalities ENOSYS
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 0, op: 'SCMP_CMP_NE', value: 0xffffffff }] },
    ],
  });
  assert.deepEqual(callUnder(program, 'mkdirat', [-100, 0]), [-1, 13]);
  assert.deepEqual(callUnder(program, 'kill', [process.pid, 0]), [0, 0]);
  assert.deepEqual(callUnder(program, 'kill', [process.pid, 28]), [-1, 1]); // SIGWINCH would be harmless anyway
  assert.equal(callUnder(program, 'personality', [0xffffffff])[1], 0);
  assert.deepEqual(callUnder(program, 'personality', [8]), [-1, 38]);
  assert.ok(callUnder(program, 'getpid')[0] > 0);
});

test('the default action applies to everything not listed', { skip }, () => {
  const program = writeProgram({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 95,
    syscalls: [{ names: ['getppid', 'write', 'exit_group', 'exit'], action: 'SCMP_ACT_ALLOW' }],
  });
  assert.ok(callUnder(program, 'getppid')[0] > 0);
  // getpid is denied: the loader's printf (write) still works to tell us
  assert.deepEqual(callUnder(program, 'getpid'), [-1, 95]);
});

test("docker's default profile: a shell works, unshare and mount are refused", { skip }, () => {
  const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
    'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
  const program = writeProgram(defaultSeccompProfile(caps, process.arch));
  const dir = path.join(work, 'docker-profile-dir');
  const shell = spawnSync(loader, [program, 'exec', '/bin/busybox', 'sh', '-c', `echo hi; ls / >/dev/null; mkdir ${dir}; rmdir ${dir}; sleep 0`], { encoding: 'utf8' });
  assert.equal(shell.status, 0, shell.stderr);
  assert.equal(shell.stdout, 'hi\n');
  assert.deepEqual(callUnder(program, 'unshare', [0x04000000 /* CLONE_NEWUTS */]), [-1, 1]);
  assert.deepEqual(callUnder(program, 'mount', [0, 0, 0]), [-1, 1]);
});
