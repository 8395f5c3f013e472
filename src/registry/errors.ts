// Registry error answers (`{"errors":[{"code","message","detail"}]}` of the distribution
// spec) turned into BerthErrors that name what was asked for. Registry messages are
// quoted shortened; HTTP status decides the kind.
import { z } from 'zod';
import { BerthError, type ErrorKind } from '../errors/berth-error.js';
import { readBody, type HttpResponse } from './transport.js';

const errorBodySchema = z.object({
  errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough()).optional(),
});

const NOT_FOUND_CODES = new Set(['MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN']);

/** Reads the error body (bounded) and builds the error; `what` names the object, e.g. "manifest localhost:5000/a:tag". */
export async function registryError(response: HttpResponse, what: string): Promise<BerthError> {
  const body = await readBody(response, 64 * 1024, 'registry error').catch(() => Buffer.alloc(0));
  const first = parseFirstError(body);
  const code = first?.code;
  const said = first?.message !== undefined ? `: ${first.message.slice(0, 200)}` : '';
  const kind = kindOf(response.status, code);
  const errorCode = kind === 'not_found' ? 'REGISTRY_NOT_FOUND' : kind === 'unauthorized' ? 'REGISTRY_UNAUTHORIZED'
    : kind === 'forbidden' ? 'REGISTRY_DENIED' : 'REGISTRY_ERROR';
  const hint = kind === 'unauthorized' ? 'log in with "berth login" or check the stored credentials' : undefined;
  return new BerthError(kind, errorCode, `${what}: registry answered HTTP ${response.status}${code ? ` ${code}` : ''}${said}`,
    { detail: { status: response.status, registryCode: code }, ...(hint ? { hint } : {}) });
}

function parseFirstError(body: Buffer): { code?: string; message?: string } | undefined {
  if (body.byteLength === 0) return undefined;
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data.errors?.[0] : undefined;
  } catch {
    return undefined;
  }
}

function kindOf(status: number, code: string | undefined): ErrorKind {
  if (status === 404 || (code !== undefined && NOT_FOUND_CODES.has(code))) return 'not_found';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 400 || status === 413 || status === 416) return 'invalid_argument';
  if (status === 409) return 'conflict';
  if (status === 405) return 'not_implemented';
  return 'unavailable';
}
