// A tiny checked decoder for the daemon's JSON. zod would do, but it costs ~20 ms of
// start-up on every `berth ps`; these few combinators cost nothing and still reject
// foreign data that does not have the shape we read, naming the offending field.
import { BerthError } from '../errors/berth-error.js';

export type Decoder<T> = (value: unknown, where: string) => T;
export type Decoded<D> = D extends Decoder<infer T> ? T : never;

function fail(where: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new BerthError('internal', 'BAD_DAEMON_RESPONSE', `unexpected response from the daemon: ${where} should be ${expected}, got ${got}`);
}

export const str: Decoder<string> = (v, w) => (typeof v === 'string' ? v : fail(w, 'a string', v));
export const num: Decoder<number> = (v, w) => (typeof v === 'number' ? v : fail(w, 'a number', v));
export const bool: Decoder<boolean> = (v, w) => (typeof v === 'boolean' ? v : fail(w, 'a boolean', v));
export const unknownValue: Decoder<unknown> = (v) => v;

/** null and a missing field both decode to undefined */
export function opt<T>(inner: Decoder<T>): Decoder<T | undefined> {
  return (v, w) => (v === undefined || v === null ? undefined : inner(v, w));
}

export function arr<T>(inner: Decoder<T>): Decoder<T[]> {
  return (v, w) => (Array.isArray(v) ? v.map((item, i) => inner(item, `${w}[${i}]`)) : fail(w, 'an array', v));
}

export function record<T>(inner: Decoder<T>): Decoder<Record<string, T>> {
  return (v, w) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(w, 'an object', v);
    const out: Record<string, T> = {};
    for (const [key, item] of Object.entries(v)) out[key] = inner(item, `${w}.${key}`);
    return out;
  };
}

type Shape = Record<string, Decoder<unknown>>;
/** fields whose decoder allows undefined are optional keys */
type ObjectOf<S extends Shape> =
  & { [K in keyof S as undefined extends Decoded<S[K]> ? never : K]: Decoded<S[K]> }
  & { [K in keyof S as undefined extends Decoded<S[K]> ? K : never]?: Decoded<S[K]> };

/** Check the listed fields; keep every other field as it came (the API grows). */
export function obj<S extends Shape>(shape: S): Decoder<ObjectOf<S> & Record<string, unknown>> {
  return (v, w) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(w, 'an object', v);
    const source = v as Record<string, unknown>;
    const out: Record<string, unknown> = { ...source };
    for (const [key, decode] of Object.entries(shape)) out[key] = decode(source[key], `${w}.${key}`);
    return out as ObjectOf<S> & Record<string, unknown>;
  };
}
