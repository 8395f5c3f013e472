// What a container started by berth-runtime inherits from the process that ran the command:
// its umask and rlimits (where config.json is silent), and the cgroup a relative cgroupsPath
// is resolved in. The plain command has them already; the resident server reads its
// caller's from /proc (the caller's pid comes from SO_PEERCRED and it waits for the answer,
// so the pid stays its own) and serves only callers whose attributes it can reproduce.
import { readFileSync } from 'node:fs';
import type { InheritedAttributes, InheritedRlimit } from '../runtime/runtime.js';

export interface CallerAttributes extends InheritedAttributes {
  /** /proc/<pid>/cgroup as it reads */
  cgroup: string;
}

const UNLIMITED = (1n << 64n) - 1n;

/** the "Umask:" line of /proc/<pid>/status (octal), undefined when the kernel has none */
export function parseUmask(status: string): number | undefined {
  const match = /^Umask:\s+([0-7]+)$/m.exec(status);
  return match?.[1] === undefined ? undefined : parseInt(match[1], 8);
}

/** /proc/<pid>/limits: its rows are the resources in kernel order (RLIMIT_CPU = 0 ...) */
export function parseLimits(text: string): InheritedRlimit[] {
  const rows = text.split('\n').slice(1).filter((line) => line.trim() !== '');
  return rows.map((row, resource) => {
    // the name has spaces; soft and hard are the two values after it (a number or "unlimited")
    const match = /\s(\d+|unlimited)\s+(\d+|unlimited)(\s|$)/.exec(row);
    if (!match?.[1] || !match[2]) throw new Error(`cannot read limit row ${JSON.stringify(row)}`);
    const value = (v: string): bigint => (v === 'unlimited' ? UNLIMITED : BigInt(v));
    return { resource, soft: value(match[1]), hard: value(match[2]) };
  });
}

export function readCallerAttributes(pid: number | 'self'): CallerAttributes | undefined {
  try {
    const umask = parseUmask(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (umask === undefined) return undefined;
    return { umask, rlimits: parseLimits(readFileSync(`/proc/${pid}/limits`, 'utf8')), cgroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8') };
  } catch {
    return undefined;
  }
}

/**
 * Whether a container made here can have the caller's attributes: the same cgroup (a
 * relative cgroupsPath means the caller's) and no hard limit above ours (raising one needs
 * CAP_SYS_RESOURCE, which a container runtime may lack).
 */
export function canReproduce(caller: CallerAttributes, own: CallerAttributes): boolean {
  if (caller.cgroup !== own.cgroup) return false;
  return caller.rlimits.every((limit) => {
    const ours = own.rlimits.find((l) => l.resource === limit.resource);
    return ours !== undefined && limit.hard <= ours.hard;
  });
}
