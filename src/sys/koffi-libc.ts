// libc through koffi (a prebuilt FFI library; no compiled addon of ours), bound once per
// process on first use: koffi's bindings are per process, like the libc they wrap.
import { createRequire } from 'node:module';

export interface KoffiFunction { (...args: unknown[]): unknown; async(...args: unknown[]): void }
interface Koffi { load(name: string): { func(signature: string): KoffiFunction }; errno(): number }

const require = createRequire(import.meta.url);

/**
 * A getter for the libc functions `declare` names by their C signatures (and errno), made
 * on its first call, so a process that never needs them never loads koffi.
 */
export function lazyLibc<T extends { errno: () => number }>(declare: (func: (signature: string) => KoffiFunction) => Omit<T, 'errno'>): () => T {
  let bound: T | undefined;
  return () => {
    if (bound === undefined) {
      const koffi = require('koffi') as Koffi;
      const lib = koffi.load('libc.so.6');
      bound = { ...declare((signature) => lib.func(signature)), errno: () => koffi.errno() } as T; // T is exactly the declared functions plus errno
    }
    return bound;
  };
}
