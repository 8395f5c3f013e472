import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canReproduce, parseLimits, parseUmask, readCallerAttributes } from './caller-process.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             96364                96364                processes 
Max open files            500                  1000                 files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       96364                96364                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`;

test('parseLimits: one entry per resource in kernel order, "unlimited" as RLIM_INFINITY', () => {
  const limits = parseLimits(LIMITS);
  assert.equal(limits.length, 16);
  assert.deepEqual(limits[7], { resource: 7, soft: 500n, hard: 1000n });
  assert.deepEqual(limits[3], { resource: 3, soft: 8388608n, hard: (1n << 64n) - 1n });
  assert.deepEqual(limits[13], { resource: 13, soft: 0n, hard: 0n });
  assert.throws(() => parseLimits('Limit\nMax open files  lots  many  files\n'), /cannot read limit row/);
});

test('parseUmask reads the octal Umask line', () => {
  assert.equal(parseUmask('Name:\tsh\nUmask:\t0027\nState:\tS\n'), 0o27);
  assert.equal(parseUmask('Name:\tsh\n'), undefined);
});

test('canReproduce: same cgroup and no hard limit above ours', () => {
  const own = { umask: 0o22, rlimits: parseLimits(LIMITS), cgroup: '0::/a\n' };
  const lower = { ...own, umask: 0o77, rlimits: own.rlimits.map((l) => (l.resource === 7 ? { ...l, soft: 10n, hard: 20n } : l)) };
  assert.equal(canReproduce(lower, own), true);
  assert.equal(canReproduce({ ...lower, cgroup: '0::/b\n' }, own), false, 'another cgroup: a relative cgroupsPath would differ');
  const higher = { ...own, rlimits: own.rlimits.map((l) => (l.resource === 7 ? { ...l, hard: 5000n } : l)) };
  assert.equal(canReproduce(higher, own), false, 'a hard limit above ours cannot be raised back');
});

test('readCallerAttributes of this process matches process.umask()', () => {
  const self = readCallerAttributes('self');
  assert.ok(self);
  assert.equal(self.umask, process.umask());
  assert.equal(self.rlimits.length >= 16, true);
});
