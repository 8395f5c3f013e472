import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { isBerthError } from '../errors/berth-error.js';
import { type LinuxSeccomp, linuxSeccompArgSchema, seccompActions } from './runtime-spec.js';
import { defaultSeccompProfile } from './seccomp-default.js';

/** dockerd's default capability set */
const DOCKER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

function rulesFor(profile: LinuxSeccomp, name: string): Array<{ action: string; errnoRet?: number; args?: unknown }> {
  return (profile.syscalls ?? []).filter((s) => s.names.includes(name))
    .map((s) => ({ action: s.action, ...(s.errnoRet === undefined ? {} : { errnoRet: s.errnoRet }), ...(s.args ? { args: s.args } : {}) }));
}

test('docker default caps on amd64: x86 family, clone limited, clone3 ENOSYS, no mount', () => {
  const p = defaultSeccompProfile(DOCKER_CAPS, 'x64');
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(rulesFor(p, 'clone'), [{ action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  assert.deepEqual(rulesFor(p, 'clone3'), [{ action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  assert.deepEqual(rulesFor(p, 'mount'), []);
  assert.deepEqual(rulesFor(p, 'chroot'), [{ action: 'SCMP_ACT_ALLOW' }]); // CAP_SYS_CHROOT is a docker default
  assert.deepEqual(rulesFor(p, 'arch_prctl'), [{ action: 'SCMP_ACT_ALLOW' }]);
  assert.deepEqual(rulesFor(p, 'arm_fadvise64_64'), []);
  assert.equal(rulesFor(p, 'personality').length, 5);
  assert.deepEqual(rulesFor(p, 'ptrace'), [{ action: 'SCMP_ACT_ALLOW' }]); // minKernel 4.8 group
  assert.deepEqual(rulesFor(p, 'read'), [{ action: 'SCMP_ACT_ALLOW' }]);
});

test('CAP_SYS_ADMIN opens mount, unshare and unrestricted clone; caps may omit the CAP_ prefix', () => {
  const p = defaultSeccompProfile([...DOCKER_CAPS, 'sys_admin'], 'amd64');
  assert.deepEqual(rulesFor(p, 'mount'), [{ action: 'SCMP_ACT_ALLOW' }]);
  assert.deepEqual(rulesFor(p, 'unshare'), [{ action: 'SCMP_ACT_ALLOW' }]);
  assert.deepEqual(rulesFor(p, 'clone'), [{ action: 'SCMP_ACT_ALLOW' }]);
  assert.deepEqual(rulesFor(p, 'clone3'), [{ action: 'SCMP_ACT_ALLOW' }]);
});

test('arm64 gets the arm group and not the x86 one; old kernels lose minKernel groups', () => {
  const p = defaultSeccompProfile([], 'arm64');
  assert.deepEqual(p.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.equal(rulesFor(p, 'arm_fadvise64_64').length, 1);
  assert.deepEqual(rulesFor(p, 'arch_prctl'), []);
  assert.deepEqual(rulesFor(p, 'chroot'), []);
  const old = defaultSeccompProfile([], 'x64', { kernelVersion: '4.4.0-210-generic' });
  assert.deepEqual(rulesFor(old, 'ptrace'), []);
  assert.deepEqual(rulesFor(defaultSeccompProfile([], 'x64', { kernelVersion: '6.1.0' }), 'ptrace'), [{ action: 'SCMP_ACT_ALLOW' }]);
  assert.throws(() => defaultSeccompProfile([], 'vax'), (err) => isBerthError(err, 'invalid_argument') && /vax/.test(err.message));
  assert.throws(() => defaultSeccompProfile([], 'x64', { kernelVersion: 'banana' }), /banana/);
});

// The table in seccomp-default.ts must say what moby's default.json says. The reference
// copy lives outside the repository; where it is present, resolve it independently here.
const REF = '/work/shared/ref/docker-seccomp/default.json';
const filterSchema = z.object({ caps: z.array(z.string()).optional(), arches: z.array(z.string()).optional(), minKernel: z.string().optional() });
const refSchema = z.object({
  defaultAction: z.enum(seccompActions),
  defaultErrnoRet: z.number().optional(),
  syscalls: z.array(z.object({
    names: z.array(z.string()),
    action: z.enum(seccompActions),
    errnoRet: z.number().optional(),
    args: z.array(linuxSeccompArgSchema).optional(),
    includes: filterSchema.optional(),
    excludes: filterSchema.optional(),
  })),
});

test('the embedded table matches moby default.json for several capability sets', { skip: existsSync(REF) ? false : `${REF} not present` }, () => {
  const ref = refSchema.parse(JSON.parse(readFileSync(REF, 'utf8')));
  for (const caps of [[], DOCKER_CAPS, [...DOCKER_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_BPF', 'CAP_PERFMON', 'CAP_SYSLOG']]) {
    for (const goArch of ['amd64', 'arm64']) {
      const expected = ref.syscalls.filter((g) =>
        !(g.excludes?.arches?.includes(goArch) || g.excludes?.caps?.some((c) => caps.includes(c)))
        && (g.includes?.arches === undefined || g.includes.arches.includes(goArch))
        && (g.includes?.caps === undefined || g.includes.caps.every((c) => caps.includes(c))))
        .map((g) => ({ names: g.names, action: g.action, ...(g.errnoRet === undefined ? {} : { errnoRet: g.errnoRet }), ...(g.args ? { args: g.args } : {}) }));
      const actual = defaultSeccompProfile(caps, goArch);
      assert.deepEqual(actual.syscalls, expected, `${goArch} ${caps.join(',')}`);
      assert.equal(actual.defaultAction, ref.defaultAction);
      assert.equal(actual.defaultErrnoRet, ref.defaultErrnoRet);
    }
  }
});
