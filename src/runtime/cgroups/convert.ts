// Pure conversions from OCI resource values to cgroup file values, as runc does them, so
// that a bundle gets the same limits under berth-runtime and runc.
import { invalidArgument } from '../../errors/berth-error.js';
import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';

/** v1 cpu.shares (2..262144) -> v2 cpu.weight (1..10000), runc's formula; 0 means unset. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  const clamped = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((clamped - 2) * 9999) / 262142);
}

/** v1 blkio.weight (10..1000) -> v2 io.weight (1..10000), runc's formula; 0 means unset. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  const clamped = Math.min(Math.max(weight, 10), 1000);
  return 1 + Math.floor(((clamped - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory+swap (the v1 memsw meaning). v2 wants swap alone:
 * memory.swap.max = swap - limit, as runc's ConvertMemorySwapToCgroupV2Value.
 * Returns undefined when nothing is to be written, -1 for "max".
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): number | undefined {
  const s = swap ?? 0;
  const m = limit ?? 0;
  if (m === -1 && s === 0) return -1;
  if (s === -1) return -1;
  if (s === 0) return undefined;
  if (m === 0 || m === -1) {
    throw invalidArgument('INVALID_RESOURCES', 'linux.resources.memory.swap is set without a memory limit', {
      hint: 'set linux.resources.memory.limit as well',
    });
  }
  if (s < m) {
    throw invalidArgument('INVALID_RESOURCES', `linux.resources.memory.swap (${s}) is below memory.limit (${m}); it is memory+swap`);
  }
  return s - m;
}

/** A limit for a cgroup file: -1 (or any negative) becomes "max" (v2) / -1 (v1). */
export function v2Limit(value: number): string {
  return value < 0 ? 'max' : String(value);
}

/** pids.max from an OCI pids.limit: > 0 is the value, 0 or negative means no limit. */
export function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}

/** v2 cpu.max "quota period": quota -1 (or unset with a period) is "max". */
export function cpuMax(quota: number | undefined, period: number | undefined): string | undefined {
  if (quota === undefined && period === undefined) return undefined;
  if ((quota ?? 0) === 0 && (period ?? 0) === 0) return undefined;
  const quotaText = quota === undefined || quota <= 0 ? 'max' : String(quota);
  const periodValue = period === undefined || period === 0 ? 100000 : period;
  return `${quotaText} ${periodValue}`;
}

/** An OCI device rule as a v1 devices.allow/deny line ("c 1:3 rwm"). */
export function deviceRuleLine(rule: LinuxDeviceCgroup, index: number): string {
  const type = rule.type ?? 'a';
  if (!['a', 'c', 'b'].includes(type)) {
    throw invalidArgument('INVALID_RESOURCES', `linux.resources.devices[${index}].type '${type}' is not a, c or b`);
  }
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
    throw invalidArgument('INVALID_RESOURCES', `linux.resources.devices[${index}].access '${access}' is not a combination of r, w, m`);
  }
  const num = (n: number | null | undefined): string => (n === undefined || n === null || n < 0 ? '*' : String(n));
  if (type === 'a') return 'a';
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/**
 * The rules without an allow already written since the last deny: the kernel's list has it,
 * writing it again changes nothing (a spec's own rules and the runtime's default devices
 * overlap: dockerd's specs list all of them, ~12 writes per container saved).
 */
export function withoutRepeatedAllows<T extends { allow: boolean; line: string }>(rules: readonly T[]): T[] {
  const kept: T[] = [];
  let allowedSinceDeny = new Set<string>();
  for (const rule of rules) {
    if (!rule.allow) allowedSinceDeny = new Set();
    else if (allowedSinceDeny.has(rule.line)) continue;
    else allowedSinceDeny.add(rule.line);
    kept.push(rule);
  }
  return kept;
}

/** "2MB" -> "2MB" as the cgroup file names it; checks the form. */
export function hugepageSize(pageSize: string, index: number): string {
  if (!/^\d+(KB|MB|GB)$/.test(pageSize)) {
    throw invalidArgument('INVALID_RESOURCES', `linux.resources.hugepageLimits[${index}].pageSize '${pageSize}' is not like 2MB`);
  }
  return pageSize;
}

/** Validate a cpuset list such as "0-3,7". */
export function checkCpuList(value: string, field: string): string {
  if (value !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) {
    throw invalidArgument('INVALID_RESOURCES', `linux.resources.cpu.${field} '${value}' is not a list like 0-3,7`);
  }
  return value;
}
