// nftables scripts through libnftables (the library the nft program is a thin shell around)
// with koffi: `nft -f -` without the exec, which cost 15-80 ms per firewall change here (a
// published port changes the table at every start and stop). Scripts are the same text.
// Where the library is missing, callers keep to the nft program (available() says which).
import { BerthError } from '../errors/berth-error.js';
import { createRequire } from 'node:module';
import type { KoffiFunction } from './koffi-libc.js';
import { insideNetns } from './netlink.js';

interface NftLib {
  ctxNew: KoffiFunction; ctxFree: KoffiFunction; bufferError: KoffiFunction; bufferOutput: KoffiFunction;
  errorBuffer: KoffiFunction; run: KoffiFunction;
}

interface Koffi { load(name: string): { func(signature: string): KoffiFunction } }

const require = createRequire(import.meta.url);
let bound: NftLib | null | undefined;

/** the library's functions, or null when it cannot be loaded (bound once per process) */
function nftLib(): NftLib | null {
  if (bound !== undefined) return bound;
  try {
    const lib = (require('koffi') as Koffi).load('libnftables.so.1');
    bound = {
      ctxNew: lib.func('void *nft_ctx_new(uint32_t flags)'),
      ctxFree: lib.func('void nft_ctx_free(void *ctx)'),
      bufferError: lib.func('int nft_ctx_buffer_error(void *ctx)'),
      bufferOutput: lib.func('int nft_ctx_buffer_output(void *ctx)'),
      errorBuffer: lib.func('const char *nft_ctx_get_error_buffer(void *ctx)'),
      run: lib.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)'),
    };
  } catch {
    bound = null;
  }
  return bound;
}

/** true when scripts can run through the library */
export function nftablesLibraryAvailable(): boolean {
  return nftLib() !== null;
}

function scriptFailed(script: string, message: string): BerthError {
  const first = script.split('\n', 1)[0] ?? '';
  return new BerthError('internal', 'NFT_FAILED', `nft -f - (${first}...) failed: ${message.trim() || 'no reason given'}`);
}

function newContext(lib: NftLib): unknown {
  const ctx = lib.ctxNew(0);
  if (ctx === null) throw new BerthError('internal', 'NFT_FAILED', 'nft_ctx_new failed');
  // errors and listings into buffers of the context, not our stderr/stdout
  lib.bufferError(ctx);
  lib.bufferOutput(ctx);
  return ctx;
}

/**
 * One libnftables context in this process's network namespace, kept for its lifetime. Runs
 * go one at a time (a context is not thread-safe) on a koffi thread, off the event loop.
 */
export class NftablesContext {
  private ctx: unknown;
  private queue: Promise<unknown> = Promise.resolve();

  /** `nft -f -` of `script`; a failure carries nft's own message */
  async run(script: string): Promise<void> {
    const lib = nftLib();
    if (!lib) throw new BerthError('unavailable', 'NFT_LIBRARY_MISSING', 'libnftables.so.1 cannot be loaded');
    const next = this.queue.then(async () => {
      this.ctx ??= newContext(lib);
      const ctx = this.ctx;
      const result = await new Promise<number>((resolve, reject) => {
        lib.run.async(ctx, script, (err: unknown, value: unknown) => { if (err) reject(err instanceof Error ? err : new Error(String(err))); else resolve(Number(value)); });
      });
      const errors = String(lib.errorBuffer(ctx) ?? '');
      if (result !== 0) throw scriptFailed(script, errors);
    });
    this.queue = next.catch(() => undefined);
    await next;
  }
}

/** `nft -f -` of `script` inside the network namespace bound at `netnsFile` (synchronous: a few ms) */
export function runNftablesInside(netnsFile: string, script: string): void {
  const lib = nftLib();
  if (!lib) throw new BerthError('unavailable', 'NFT_LIBRARY_MISSING', 'libnftables.so.1 cannot be loaded');
  insideNetns(netnsFile, () => {
    // a context talks to the namespace it was made in: made, used and freed in there
    const ctx = newContext(lib);
    try {
      if (Number(lib.run(ctx, script)) !== 0) throw scriptFailed(script, String(lib.errorBuffer(ctx) ?? ''));
    } finally {
      lib.ctxFree(ctx);
    }
  });
}
