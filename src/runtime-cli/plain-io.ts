// The plain command's caller is this process: its cwd, environment and fds 0-2. A
// foreground container is attached to our own streams (a terminal through a pty relay).
import type { ProcessHandle } from '../runtime/runtime.js';
import type { CallerIo } from './context.js';

/** the signals a foreground container gets instead of us, as runc's `run` forwards them */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU',
];

export function plainCallerIo(): CallerIo {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdio: 'inherit',
    out: (text) => { process.stdout.write(text); },
    err: (text) => { process.stderr.write(text); },
    foreground: async (handle) => {
      const forward = (signal: NodeJS.Signals): void => {
        try { process.kill(handle.pid, signal); } catch { /* it has exited */ }
      };
      for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
      try {
        return await attachForeground(handle);
      } finally {
        for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      }
    },
  };
}

/** Wire the handle's streams to ours; resolves with the exit code to return. */
async function attachForeground(handle: ProcessHandle): Promise<number> {
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
