// The ONE table from an error kind to an HTTP status, and Docker's error body.
import { BerthError, type ErrorKind } from '../errors/berth-error.js';
import { ZodError } from 'zod';

export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  not_found: 404,
  invalid_argument: 400,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
  not_implemented: 501,
  not_modified: 304,
  internal: 500,
};

export interface HttpError {
  status: number;
  body: { message: string };
}

/** Map anything thrown by a handler to a status and Docker's `{"message": ...}` body. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof BerthError) {
    return { status: STATUS_OF_KIND[err.kind], body: { message: err.message } };
  }
  if (err instanceof ZodError) {
    return { status: 400, body: { message: describeZodError(err) } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { message } };
}

export function describeZodError(err: ZodError): string {
  const first = err.issues[0];
  if (!first) return 'invalid request';
  const where = first.path.length > 0 ? first.path.join('.') : 'body';
  return `invalid ${where}: ${first.message.toLowerCase()}`;
}
