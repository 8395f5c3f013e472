// berth's seccomp compiler against the reference: the same profile built with libseccomp
// (what runc uses) must decide every syscall the same way. Both programs run through the
// BPF interpreter on the same seccomp_data. Runs where gcc and libseccomp-dev exist.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { LinuxSeccomp } from '../../src/oci/runtime-spec.js';
import { defaultSeccompProfile } from '../../src/oci/seccomp-default.js';
import { ARCHES } from '../../src/runtime/seccomp/arch.js';
import { SeccompInterpreter } from '../../src/runtime/seccomp/bpf-interpreter.js';
import { actionValue, compileSeccomp } from '../../src/runtime/seccomp/compile.js';
import { REPO_ROOT } from '../support/busybox-rootfs.js';

const OPS = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 } as const;
const hasLibseccomp = spawnSync('pkg-config', ['--exists', 'libseccomp']).status === 0 && spawnSync('gcc', ['--version']).status === 0;
const skip = process.arch !== 'x64' ? 'compares x86_64 programs' : hasLibseccomp ? false : 'requires gcc and libseccomp-dev';
let work = '';
let exporter = '';

before(() => {
  if (skip) return;
  work = mkdtempSync(path.join(tmpdir(), 'berth-seccomp-parity-'));
  exporter = path.join(work, 'export');
  execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-o', exporter, path.join(REPO_ROOT, 'test/seccomp/libseccomp-export.c'), '-lseccomp']);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The profile as exporter input (runc's rules: default-action rules dropped, repeated indexes split). */
/** libseccomp's SCMP_ARCH_* tokens (x32 differs from its AUDIT_ARCH) */
const SCMP_TOKENS: Record<string, number> = {
  SCMP_ARCH_X86_64: 0xc000003e, SCMP_ARCH_X86: 0x40000003, SCMP_ARCH_X32: 0x4000003e, SCMP_ARCH_AARCH64: 0xc00000b7, SCMP_ARCH_ARM: 0x40000028,
};

function describe(spec: LinuxSeccomp): string {
  const defaultAction = actionValue(spec.defaultAction, spec.defaultErrnoRet, 'default');
  const lines = [`default ${defaultAction}`, ...(spec.architectures ?? []).map((a) => `arch ${SCMP_TOKENS[a] ?? 0}`)];
  for (const call of spec.syscalls ?? []) {
    const action = actionValue(call.action, call.errnoRet, 'rule');
    if (action === defaultAction) continue;
    const args = call.args ?? [];
    const repeated = new Set(args.map((a) => a.index)).size !== args.length;
    const groups = repeated ? args.map((a) => [a]) : [args];
    for (const name of call.names) {
      for (const group of groups) {
        lines.push(`rule ${action} ${name} ${group.length} ${group.map((a) => `${a.index} ${OPS[a.op]} ${a.value} ${a.valueTwo ?? 0}`).join(' ')}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** libseccomp's program, and the names it did not know (newer than its tables). */
function libseccompProgram(spec: LinuxSeccomp): { program: Buffer; unknown: Set<string> } {
  const result = spawnSync(exporter, [], { input: describe(spec) });
  assert.equal(result.status, 0, result.stderr.toString());
  const unknown = new Set(result.stderr.toString().split('\n').filter((l) => l.startsWith('unknown ')).map((l) => l.slice(8)));
  return { program: result.stdout, unknown };
}

function withoutNames(spec: LinuxSeccomp, names: Set<string>): LinuxSeccomp {
  return { ...spec, syscalls: (spec.syscalls ?? []).map((s) => ({ ...s, names: s.names.filter((n) => !names.has(n)) })).filter((s) => s.names.length > 0) };
}

const ARG_VALUES = [0n, 1n, 2n, 8n, 10n, 38n, 39n, 40n, 41n, 0x11n, 0x20000n, 0x20008n, 0xffffffffn, 0x100000000n, 0x10000000000000n,
  0x7e020000n, 0x7e020011n, 0x00010011n, 0x40000000n, 0xffffffffffffffffn];

function compare(spec: LinuxSeccomp, sections: Array<{ arch: number; base: number; skip?: Set<number> }> = [{ arch: ARCHES.SCMP_ARCH_X86_64.audit, base: 0 }]): number {
  const reference = libseccompProgram(spec);
  // names libseccomp 2.5 cannot resolve are left out of both, and so is runc's ENOSYS stub
  const ours = new SeccompInterpreter(compileSeccomp(withoutNames(spec, reference.unknown), 'SCMP_ARCH_X86_64', { enosysStub: false }));
  const theirs = new SeccompInterpreter(reference.program);
  let checked = 0;
  const pairs = sections.flatMap(({ arch, base, skip: skipped }) =>
    [...Array.from({ length: 470 }, (_, i) => base + i), base + 1000, 0x3fffffff, 0x40000000, 0x40000005, 0xffffffff]
      .filter((nr) => !skipped?.has(nr)).map((nr) => ({ arch, nr })));
  for (const { arch, nr } of pairs) {
    for (const [i, value] of ARG_VALUES.entries()) {
      const args = [value, ARG_VALUES[(i + 3) % ARG_VALUES.length] ?? 0n, value, 0n, 0n, 0n];
      const expected = theirs.run({ arch, nr, args }).value;
      const actual = ours.run({ arch, nr, args }).value;
      assert.equal(actual.toString(16), expected.toString(16), `arch ${arch.toString(16)} nr ${nr} args ${args.join(',')}`);
      checked++;
    }
  }
  for (const otherArch of [ARCHES.SCMP_ARCH_X86.audit, ARCHES.SCMP_ARCH_AARCH64.audit]) {
    assert.equal(ours.run({ arch: otherArch, nr: 1 }).value, theirs.run({ arch: otherArch, nr: 1 }).value);
  }
  return checked;
}

test("docker's default profile decides like libseccomp's build of it (x86_64)", { skip }, () => {
  const caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
    'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
  const profile = { ...defaultSeccompProfile(caps, 'x64'), architectures: [] };
  assert.ok(compare(profile) > 9000);
  assert.ok(compare({ ...defaultSeccompProfile([...caps, 'CAP_SYS_ADMIN'], 'x64'), architectures: [] }) > 9000);
});

test("docker's default profile on x86_64 + x86 + x32 decides like libseccomp", { skip }, () => {
  const profile = defaultSeccompProfile(['CAP_CHOWN', 'CAP_SETUID', 'CAP_SYS_CHROOT'], 'x64');
  assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const checked = compare(profile, [
    { arch: ARCHES.SCMP_ARCH_X86_64.audit, base: 0 },
    { arch: ARCHES.SCMP_ARCH_X86_64.audit, base: 0x40000000 },
    { arch: ARCHES.SCMP_ARCH_X86.audit, base: 0 },
  ]);
  assert.ok(checked > 25000);
});

test("docker's arm64 profile: the aarch64 and arm sections decide like libseccomp's", { skip }, () => {
  const profile = defaultSeccompProfile(['CAP_CHOWN', 'CAP_SETUID'], 'arm64');
  const checked = compare(profile, [
    { arch: ARCHES.SCMP_ARCH_AARCH64.audit, base: 0 },
    { arch: ARCHES.SCMP_ARCH_ARM.audit, base: 0 },
  ]);
  assert.ok(checked > 15000);
});

test('every comparison operator decides like libseccomp on values around the word boundary', { skip }, () => {
  // one rule per syscall: which of several overlapping rules wins is libseccomp's internal
  // tree order, not something a profile can rely on (berth tries them in the order given)
  const names = Object.keys(ARCHES.SCMP_ARCH_X86_64.syscalls).slice(0, 40);
  const ops = Object.keys(OPS) as Array<keyof typeof OPS>;
  const values = [0x7e020000, 0x100000000, 39, 0xffffffff, 0x10000000000000];
  const syscalls = ops.flatMap((op, i) => values.map((value, j) => ({
    names: [names[i * values.length + j] ?? 'read'],
    action: 'SCMP_ACT_ERRNO' as const, errnoRet: 10 + j,
    args: [{ index: j % 3, op, value, valueTwo: op === 'SCMP_CMP_MASKED_EQ' ? value & 0x7e000000 : 0 }],
  })));
  assert.ok(compare({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }) > 9000);
});
