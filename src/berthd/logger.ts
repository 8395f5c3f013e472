// berthd's log: level-filtered lines on stderr, as dockerd writes them.
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(level: Level, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const at = (l: Level) => (message: string): void => {
    if (ORDER[l] >= ORDER[level]) write(`time="${new Date().toISOString()}" level=${l} msg=${JSON.stringify(message)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
