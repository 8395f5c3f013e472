// The compiled programs run through a BPF interpreter against synthetic seccomp_data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../errors/berth-error.js';
import type { LinuxSeccomp, SeccompOperator } from '../../oci/runtime-spec.js';
import { ARCHES, X32_SYSCALL_BIT, hostArch } from './arch.js';
import { BPF, decodeProgram } from './bpf.js';
import { runSeccompProgram } from './bpf-interpreter.js';
import { defaultSeccompProfile } from '../../oci/seccomp-default.js';
import { RET, cachingSeccompCompiler, compileSeccomp, compileSeccompWithReport } from './compile.js';

const X86_64 = ARCHES.SCMP_ARCH_X86_64.audit;
const I386 = ARCHES.SCMP_ARCH_X86.audit;
const AARCH64 = ARCHES.SCMP_ARCH_AARCH64.audit;
const ERRNO = (n: number): number => (RET.ERRNO | n) >>> 0;

function run(program: Buffer, arch: number, nr: number, args: Array<bigint | number> = []): number {
  return runSeccompProgram(program, { arch, nr, args }).value;
}

test('deny one syscall with EPERM, allow the rest; unlisted architectures are killed', () => {
  const program = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
  }, 'SCMP_ARCH_X86_64');
  assert.equal(run(program, X86_64, 83), ERRNO(1));
  assert.equal(run(program, X86_64, 258), ERRNO(1));
  assert.equal(run(program, X86_64, 0), RET.ALLOW);
  assert.equal(run(program, X86_64, 84), RET.ALLOW);
  assert.equal(run(program, I386, 39), RET.KILL_PROCESS);
  assert.equal(run(program, AARCH64, 34), RET.KILL_PROCESS);
  // x32 numbers arrive as AUDIT_ARCH_X86_64 with bit 30 set: killed unless x32 is listed
  assert.equal(run(program, X86_64, X32_SYSCALL_BIT + 83), RET.KILL_PROCESS);
});

test('x86, x32 and aarch64 sections use their own syscall numbers', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
  };
  const report = compileSeccompWithReport(spec, 'SCMP_ARCH_X86_64');
  assert.deepEqual(report.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const p = report.program;
  assert.equal(run(p, I386, 39), ERRNO(13));
  assert.equal(run(p, I386, 296), ERRNO(13));
  assert.equal(run(p, I386, 83), RET.ALLOW); // 83 is symlink on i386... the point: not mkdir
  assert.equal(run(p, X86_64, X32_SYSCALL_BIT + 83), ERRNO(13));
  assert.equal(run(p, X86_64, X32_SYSCALL_BIT + 0), RET.ALLOW);
  const arm = compileSeccomp({ ...spec, architectures: ['SCMP_ARCH_ARM'] }, 'SCMP_ARCH_AARCH64');
  assert.equal(run(arm, AARCH64, 34), ERRNO(13)); // mkdirat on aarch64
  assert.equal(run(arm, ARCHES.SCMP_ARCH_ARM.audit, 39), ERRNO(13));
  assert.equal(run(arm, X86_64, 83), RET.KILL_PROCESS);
});

test('default ERRNO with an allow list: unlisted get the default errno, numbers above the last named get ENOSYS', () => {
  const p = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1,
    syscalls: [{ names: ['read', 'write', 'exit_group', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' }],
  }, 'SCMP_ARCH_X86_64');
  assert.equal(run(p, X86_64, 0), RET.ALLOW);
  assert.equal(run(p, X86_64, 1), RET.ALLOW);
  assert.equal(run(p, X86_64, 231), RET.ALLOW);
  assert.equal(run(p, X86_64, 39), ERRNO(1));
  assert.equal(run(p, X86_64, 232), ERRNO(38));
  assert.equal(run(p, X86_64, 999), ERRNO(38));
  // nr -1 (a tracer skipping the call) gets the default action, as with libseccomp
  assert.equal(run(p, X86_64, 0xffffffff), ERRNO(1));
});

test('every action encodes as the kernel expects', () => {
  const cases: Array<[LinuxSeccomp['defaultAction'], number | undefined, number]> = [
    ['SCMP_ACT_KILL', undefined, RET.KILL_THREAD],
    ['SCMP_ACT_KILL_THREAD', undefined, RET.KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', undefined, RET.KILL_PROCESS],
    ['SCMP_ACT_TRAP', undefined, RET.TRAP],
    ['SCMP_ACT_LOG', undefined, RET.LOG],
    ['SCMP_ACT_TRACE', 7, (RET.TRACE | 7) >>> 0],
    ['SCMP_ACT_ERRNO', 95, ERRNO(95)],
    ['SCMP_ACT_ALLOW', undefined, RET.ALLOW],
  ];
  for (const [action, errnoRet, expected] of cases) {
    const p = compileSeccomp({
      defaultAction: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['getpid'], action, errnoRet }],
    }, 'SCMP_ARCH_X86_64');
    assert.equal(run(p, X86_64, 39), expected, action);
  }
});

/** rule values come from JSON numbers, so they stay below 2^53; arguments can be anything */
const VALUES = [0, 1, 5, 0x7fffffff, 0xffffffff, 0x100000000, 0x100000001, 0x1fffffffe, Number.MAX_SAFE_INTEGER];
const ARGS = [...VALUES.map(BigInt), 0x8000000000000000n, 0xffffffffffffffffn, 0xffffffff00000005n];

function reference(op: SeccompOperator, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_EQ': return arg === value;
    case 'SCMP_CMP_NE': return arg !== value;
    case 'SCMP_CMP_LT': return arg < value;
    case 'SCMP_CMP_LE': return arg <= value;
    case 'SCMP_CMP_GT': return arg > value;
    case 'SCMP_CMP_GE': return arg >= value;
    case 'SCMP_CMP_MASKED_EQ': return (arg & value) === valueTwo;
  }
}

test('64-bit argument comparisons agree with a reference on values around the word boundary', () => {
  const ops: SeccompOperator[] = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ'];
  for (const op of ops) {
    for (const value of VALUES) {
      const valueTwo = op === 'SCMP_CMP_MASKED_EQ' ? Number(BigInt(value) & 0x100000005n) : 0;
      const p = compileSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, op, value, valueTwo }] }],
      }, 'SCMP_ARCH_X86_64');
      for (const arg of ARGS) {
        const expected = reference(op, arg, BigInt(value), BigInt(valueTwo)) ? ERRNO(1) : RET.ALLOW;
        assert.equal(run(p, X86_64, 135, [0n, 0n, arg]), expected, `${op} arg=${arg} value=${value}`);
      }
    }
  }
});

test('32-bit architectures compare only the low word of an argument', () => {
  const p = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'],
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 5 }] }],
  }, 'SCMP_ARCH_X86_64');
  assert.equal(run(p, I386, 136, [5n]), ERRNO(1));
  assert.equal(run(p, I386, 136, [0x100000005n]), ERRNO(1));
  assert.equal(run(p, I386, 136, [6n]), RET.ALLOW);
  assert.equal(run(p, X86_64, 135, [0x100000005n]), RET.ALLOW);
});

test('several args must all match; one index twice means any; rules are tried in order before the fallback', () => {
  const p = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }, { index: 1, op: 'SCMP_CMP_EQ', value: 2 }] },
      { names: ['socket'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }] },
      { names: ['socket'], action: 'SCMP_ACT_LOG' },
      { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 0 }, { index: 1, op: 'SCMP_CMP_EQ', value: 15 }] },
    ],
  }, 'SCMP_ARCH_X86_64');
  assert.equal(run(p, X86_64, 41, [1, 2]), RET.ALLOW);
  assert.equal(run(p, X86_64, 41, [1, 3]), RET.TRAP);
  assert.equal(run(p, X86_64, 41, [2, 2]), RET.LOG);
  assert.equal(run(p, X86_64, 62, [123, 0]), RET.ALLOW);
  assert.equal(run(p, X86_64, 62, [123, 15]), RET.ALLOW);
  assert.equal(run(p, X86_64, 62, [123, 9]), ERRNO(1));
});

test('programs with far targets get trampolines and still decide correctly', () => {
  const names = Object.keys(ARCHES.SCMP_ARCH_X86_64.syscalls).slice(0, 300);
  const p = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: names.map((name, i) => ({
      names: [name], action: 'SCMP_ACT_ALLOW' as const,
      args: [{ index: 0, op: 'SCMP_CMP_EQ' as const, value: i }, { index: 1, op: 'SCMP_CMP_NE' as const, value: 7 }],
    })),
  }, 'SCMP_ARCH_X86_64');
  const insns = decodeProgram(p);
  assert.ok(insns.length > 1000, `only ${insns.length} instructions`);
  assert.ok(insns.some((i) => i.code === BPF.JMP_JA), 'expected a long jump');
  for (const [i, name] of names.entries()) {
    const nr = ARCHES.SCMP_ARCH_X86_64.syscalls[name] ?? -1;
    assert.equal(run(p, X86_64, nr, [i, 0]), RET.ALLOW, name);
    assert.equal(run(p, X86_64, nr, [i, 7]), ERRNO(1), name);
    assert.equal(run(p, X86_64, nr, [i + 1, 0]), ERRNO(1), name);
  }
  const steps = runSeccompProgram(p, { arch: X86_64, nr: 0, args: [0n] }).steps;
  assert.ok(steps < 40, `a lookup took ${steps} steps; the tree should be logarithmic`);
});

test('bad input is refused with the field named; unknown syscall names are only warnings', () => {
  const bad = (spec: LinuxSeccomp, pattern: RegExp, kind: 'invalid_argument' | 'not_implemented' = 'invalid_argument'): void => {
    assert.throws(() => compileSeccomp(spec, 'SCMP_ARCH_X86_64'), (err) => isBerthError(err, kind) && pattern.test(err.message));
  };
  bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }, /architectures\[0\] 'SCMP_ARCH_VAX'/);
  bad({ defaultAction: 'SCMP_ACT_NOTIFY' }, /SCMP_ACT_NOTIFY/, 'not_implemented');
  bad({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, /syscalls\[0\]\.action: errnoRet/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, /flags\[0\]/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }, { names: ['read'], action: 'SCMP_ACT_KILL' }] },
    /syscalls\[1\] \(read\)/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 2 ** 60 }] }] },
    /args\[0\]\.value/);
  const report = compileSeccompWithReport({
    defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'],
    architectures: ['SCMP_ARCH_PPC64LE'],
    syscalls: [{ names: ['frobnicate', 'arm_fadvise64_64', 'mkdir'], action: 'SCMP_ACT_ERRNO' }],
  }, 'SCMP_ARCH_X86_64');
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 'frobnicate'], action: 'SCMP_ACT_ERRNO' }] },
    'SCMP_ARCH_X86_64', { unknownSyscall: 'error' }),
  (err) => isBerthError(err, 'invalid_argument') && err.message === 'linux.seccomp.syscalls[0].names[1]: unknown syscall "frobnicate"');
  // foreign-architecture names are never an error, so Docker's profile passes the strict mode
  compileSeccomp(defaultSeccompProfile([], 'x64'), 'SCMP_ARCH_X86_64', { unknownSyscall: 'error' });
  assert.equal(report.flags, 2);
  assert.deepEqual(report.warnings, [
    'architecture SCMP_ARCH_PPC64LE in linux.seccomp.architectures[0] cannot run on this host; left out',
    "unknown syscall 'frobnicate' in linux.seccomp.syscalls[0].names ignored",
  ]);
  assert.equal(run(report.program, X86_64, 83), ERRNO(1));
});

test('hostArch maps Node architectures', () => {
  assert.equal(hostArch('x64'), 'SCMP_ARCH_X86_64');
  assert.equal(hostArch('arm64'), 'SCMP_ARCH_AARCH64');
  assert.throws(() => hostArch('mips'), /mips/);
});

test("docker's default profile compiles and decides like dockerd's does", () => {
  const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
    'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
  const report = compileSeccompWithReport(defaultSeccompProfile(caps, 'x64'), 'SCMP_ARCH_X86_64');
  assert.deepEqual(report.warnings, []);
  const p = report.program;
  assert.ok(p.length / 8 < 4096);
  const nr = (name: string): number => ARCHES.SCMP_ARCH_X86_64.syscalls[name] ?? -1;
  assert.equal(run(p, X86_64, nr('read')), RET.ALLOW);
  assert.equal(run(p, X86_64, nr('mkdir')), RET.ALLOW);
  assert.equal(run(p, X86_64, nr('mount')), ERRNO(1));
  assert.equal(run(p, X86_64, nr('unshare')), ERRNO(1));
  assert.equal(run(p, X86_64, nr('clone'), [0x11 /* SIGCHLD */]), RET.ALLOW);
  assert.equal(run(p, X86_64, nr('clone'), [0x00020000 /* CLONE_NEWNS */ | 0x11]), ERRNO(1));
  assert.equal(run(p, X86_64, nr('clone3')), ERRNO(38));
  assert.equal(run(p, X86_64, nr('personality'), [8]), RET.ALLOW);
  assert.equal(run(p, X86_64, nr('personality'), [1]), ERRNO(1));
  assert.equal(run(p, X86_64, nr('socket'), [2]), RET.ALLOW);
  assert.equal(run(p, X86_64, nr('socket'), [40 /* AF_VSOCK */]), ERRNO(1));
  assert.equal(run(p, X86_64, 1000), ERRNO(38));
  assert.equal(run(p, I386, ARCHES.SCMP_ARCH_X86.syscalls.mount ?? -1), ERRNO(1));
  assert.equal(run(p, I386, ARCHES.SCMP_ARCH_X86.syscalls.socketcall ?? -1), RET.ALLOW);
  assert.equal(run(p, X86_64, ARCHES.SCMP_ARCH_X32.syscalls.read ?? -1), RET.ALLOW);
});

test('the caching compiler returns correct copies, also after older entries were evicted', () => {
  const compile = cachingSeccompCompiler(2);
  const spec = (name: string): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [name], action: 'SCMP_ACT_ERRNO' }] });
  const first = compile(spec('mkdir'), 'SCMP_ARCH_X86_64');
  first.fill(0); // a caller scribbling on its copy must not poison the cache
  const again = compile(spec('mkdir'), 'SCMP_ARCH_X86_64');
  assert.deepEqual(again, compileSeccomp(spec('mkdir'), 'SCMP_ARCH_X86_64'));
  assert.equal(run(again, X86_64, 83), ERRNO(1));
  compile(spec('rmdir'), 'SCMP_ARCH_X86_64');
  compile(spec('chdir'), 'SCMP_ARCH_X86_64');
  assert.equal(run(compile(spec('mkdir'), 'SCMP_ARCH_X86_64'), X86_64, 83), ERRNO(1));
});
