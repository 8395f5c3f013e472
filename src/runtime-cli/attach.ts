// Connecting a foreground container process (run, exec without -d) to this terminal.
import type { ProcessHandle } from '../runtime/runtime.js';

/** Wire the handle's streams to ours; resolves with the exit code to return. */
export async function attachForeground(handle: ProcessHandle): Promise<number> {
  const io = handle.io;
  if (io.kind === 'terminal') {
    const stdin = process.stdin;
    if (stdin.isTTY) stdin.setRawMode(true);
    const resize = (): void => {
      if (process.stdout.isTTY) void io.resize(process.stdout.columns, process.stdout.rows).catch(() => undefined);
    };
    resize();
    process.stdout.on('resize', resize);
    stdin.pipe(io.terminal);
    io.terminal.pipe(process.stdout);
    const status = await handle.exit;
    stdin.unpipe(io.terminal);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    process.stdout.off('resize', resize);
    return status.exitCode;
  }
  if (io.kind === 'pipes') {
    process.stdin.pipe(io.stdin);
    io.stdout.pipe(process.stdout);
    io.stderr.pipe(process.stderr);
  }
  const status = await handle.exit;
  process.stdin.unpipe();
  process.stdin.pause();
  return status.exitCode;
}
