// One layer blob unpacked synchronously, start to end: read and decompress (blob-reader-sync),
// hash for the diff ID, parse and apply (applyLayerSync, every hostile-input check of the
// streaming path). Run by the unpack worker threads; the task and its outcome are plain data
// so that they cross the thread boundary, errors included.
import { BerthError, errnoCode, type ErrorKind } from '../../errors/berth-error.js';
import { isDigest, type Digest } from '../../oci/digest.js';
import { openBlobSync } from '../archive/blob-reader-sync.js';
import type { TarLimits } from '../archive/tar-reader.js';
import { applyLayerSync, type ApplyOptions } from './apply-layer.js';

export interface UnpackTask {
  /** the compressed blob's file, and its digest (re-verified while read) */
  blobFile: string;
  blobDigest: Digest;
  /** an empty directory to unpack into */
  root: string;
  whiteouts: ApplyOptions['whiteouts'];
  opaqueXattr?: string;
  allowDevices: boolean;
  limits?: TarLimits;
}

export interface UnpackOutcome {
  /** digest of the uncompressed tar (the caller compares it with the diff ID) */
  diffId: Digest;
  entries: number;
  size: number;
}

/** An error as plain data: a BerthError's kind, code, message, hint and detail, or a system error's code. */
export interface ErrorData {
  message: string;
  kind?: ErrorKind;
  code?: string;
  hint?: string;
  detail?: Record<string, unknown>;
  syscall?: string;
  path?: string;
}

export function unpackBlobSync(task: UnpackTask): UnpackOutcome {
  const reader = openBlobSync(task.blobFile, task.blobDigest, `layer ${task.blobDigest}`);
  try {
    const options: ApplyOptions = { whiteouts: task.whiteouts, allowDevices: task.allowDevices };
    if (task.opaqueXattr !== undefined) options.opaqueXattr = task.opaqueXattr;
    if (task.limits !== undefined) options.limits = task.limits;
    const result = applyLayerSync(task.root, () => reader.next(), options);
    return { diffId: reader.finish(), entries: result.entries, size: result.size };
  } finally {
    reader.close();
  }
}

export function errorToData(err: unknown): ErrorData {
  if (err instanceof BerthError) {
    const data: ErrorData = { message: err.message, kind: err.kind, code: err.code };
    if (err.hint !== undefined) data.hint = err.hint;
    if (err.detail !== undefined) data.detail = err.detail;
    return data;
  }
  const data: ErrorData = { message: err instanceof Error ? err.message : String(err) };
  const code = errnoCode(err);
  if (code !== undefined) data.code = code;
  if (typeof err === 'object' && err !== null) {
    const { syscall, path } = err as { syscall?: unknown; path?: unknown };
    if (typeof syscall === 'string') data.syscall = syscall;
    if (typeof path === 'string') data.path = path;
  }
  return data;
}

/** The error again on this side: the same BerthError, or an Error with the system error's code. */
export function errorFromData(data: ErrorData): Error {
  if (data.kind !== undefined && data.code !== undefined) {
    return new BerthError(data.kind, data.code, data.message, {
      ...(data.hint !== undefined ? { hint: data.hint } : {}), ...(data.detail !== undefined ? { detail: data.detail } : {}),
    });
  }
  const err = new Error(data.message);
  return Object.assign(err, {
    ...(data.code !== undefined ? { code: data.code } : {}), ...(data.syscall !== undefined ? { syscall: data.syscall } : {}),
    ...(data.path !== undefined ? { path: data.path } : {}),
  });
}

/** A task as received by a worker: checked, as any message crossing a boundary. */
export function parseUnpackTask(value: unknown): UnpackTask {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof v.blobFile !== 'string' || typeof v.root !== 'string' || !isDigest(v.blobDigest)
    || (v.whiteouts !== 'overlay' && v.whiteouts !== 'remove') || typeof v.allowDevices !== 'boolean'
    || (v.opaqueXattr !== undefined && typeof v.opaqueXattr !== 'string')) {
    throw new BerthError('internal', 'BAD_UNPACK_TASK', 'unpack worker: malformed task');
  }
  const task: UnpackTask = { blobFile: v.blobFile, blobDigest: v.blobDigest, root: v.root, whiteouts: v.whiteouts, allowDevices: v.allowDevices };
  if (typeof v.opaqueXattr === 'string') task.opaqueXattr = v.opaqueXattr;
  if (v.limits !== undefined) task.limits = parseLimits(v.limits);
  return task;
}

function parseLimits(value: unknown): TarLimits {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { maxEntries, maxEntryBytes, maxTotalBytes, maxNameLength, maxPaxBytes } = v;
  if (typeof maxEntries !== 'number' || typeof maxEntryBytes !== 'number' || typeof maxTotalBytes !== 'number'
    || typeof maxNameLength !== 'number' || typeof maxPaxBytes !== 'number') {
    throw new BerthError('internal', 'BAD_UNPACK_TASK', 'unpack worker: malformed tar limits');
  }
  return { maxEntries, maxEntryBytes, maxTotalBytes, maxNameLength, maxPaxBytes };
}
