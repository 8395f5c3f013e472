// The one error type of berth: a stable kind (mapped to HTTP status in one table in
// server/), a code for programs, a lowercase message naming the id or path, and a hint.

export type ErrorKind =
  | 'not_found'
  | 'invalid_argument'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not_implemented'
  | 'not_modified'
  | 'internal';

export interface BerthErrorOptions {
  cause?: unknown;
  hint?: string;
  /** extra structured detail, e.g. the helper's {stage, step, errno, path} */
  detail?: Record<string, unknown>;
}

export class BerthError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

export function notFound(code: string, message: string, options?: BerthErrorOptions): BerthError {
  return new BerthError('not_found', code, message, options);
}

export function invalidArgument(code: string, message: string, options?: BerthErrorOptions): BerthError {
  return new BerthError('invalid_argument', code, message, options);
}

export function conflict(code: string, message: string, options?: BerthErrorOptions): BerthError {
  return new BerthError('conflict', code, message, options);
}

export function internal(code: string, message: string, options?: BerthErrorOptions): BerthError {
  return new BerthError('internal', code, message, options);
}

export function isBerthError(err: unknown, kind?: ErrorKind): err is BerthError {
  return err instanceof BerthError && (kind === undefined || err.kind === kind);
}

/** Node's system errors carry a string code such as ENOENT. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Run cleanup after a failure without losing the original error: a cleanup failure is
 * attached as `suppressed` rather than replacing what went wrong first.
 */
export async function withCleanup<T>(work: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    try {
      await cleanup();
    } catch (cleanupErr) {
      if (err instanceof Error) Object.assign(err, { suppressed: cleanupErr });
    }
    throw err;
  }
}
