// berthd's log: level-filtered lines on stderr, as dockerd writes them.
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * stderr, one write per event-loop turn: stderr on a pipe is written synchronously, and a
 * run's ~30 debug lines were ~30 write(2) calls (each waking the reader) on berthd's loop.
 * What is pending is written at exit too; a kill -9 loses at most one turn's lines.
 */
export function batchedStderr(): (line: string) => void {
  let pending = '';
  const flush = (): void => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    process.stderr.write(text);
  };
  process.once('exit', flush);
  return (line) => {
    if (pending === '') setImmediate(flush);
    pending += line;
  };
}

export function createLogger(level: Level, write: (line: string) => void = batchedStderr()): Logger {
  const at = (l: Level) => (message: string): void => {
    if (ORDER[l] >= ORDER[level]) write(`time="${new Date().toISOString()}" level=${l} msg=${JSON.stringify(message)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
